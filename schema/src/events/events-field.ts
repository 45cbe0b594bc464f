import { builder } from '../builder.js';
import { EventRef } from './event.js';
import { subscribeToTopics } from './subscribe.js';

builder.subscriptionField('events', (t) =>
  t.field({
    type: EventRef,
    description:
      'Events of one or more topics of the key’s application and environment, data untyped. Needs an API key (connectionParams.apiKey).',
    args: { topics: t.arg.stringList({ required: true }) },
    subscribe: (_root, { topics }, context) => subscribeToTopics(context, topics),
    resolve: (event) => event,
  }),
);
