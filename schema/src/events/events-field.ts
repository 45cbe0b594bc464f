import { builder } from '../builder.js';
import { EventRef } from './event.js';
import type { StreamItem } from '@realtime/core';
import { resolveStreamItem, subscribeToTopics } from './subscribe.js';

builder.subscriptionField('events', (t) =>
  t.field({
    type: EventRef,
    description:
      'Events of one or more topics of the key’s application and environment, data untyped. Needs an API key (connectionParams.apiKey).',
    args: {
      topics: t.arg.stringList({ required: true }),
      after: t.arg.string({
        description:
          'Resume after this cursor (one topic only): missed events are replayed from history, then live ones follow, with no gap or duplicate. If the history no longer reaches back that far, the first result is a HISTORY_GAP error.',
      }),
    },
    subscribe: (_root, { topics, after }, context) => subscribeToTopics(context, topics, { after }),
    resolve: (item) => resolveStreamItem(item as StreamItem),
  }),
);
