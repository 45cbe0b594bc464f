import { requireSecretKey, type EventEnvelope } from '@realtime/core';
import { builder } from '../builder.js';
import { EventRef } from './event.js';

const PublishInput = builder.inputType('PublishInput', {
  fields: (t) => ({
    topic: t.string({ required: true }),
    data: t.field({ type: 'JSON', required: true, description: 'Validated against the topic’s schema.' }),
    subject: t.string({ description: 'Ordering key, e.g. an order id.' }),
    traceparent: t.string({ description: 'W3C trace context to carry on the event.' }),
    schemaVersion: t.int({ description: 'Validate against this schema version instead of the latest (a pinned producer).' }),
    idempotencyKey: t.string({
      description:
        'Your key for this publish (per topic): a repeat within 5 minutes returns the original event and publishes nothing, so retries after a lost response are safe.',
    }),
  }),
});

const PublishPayload = builder.objectRef<{ event: EventEnvelope }>('PublishPayload').implement({
  fields: (t) => ({ event: t.field({ type: EventRef, resolve: (payload) => payload.event }) }),
});

builder.mutationField('publish', (t) =>
  t.field({
    type: PublishPayload,
    description:
      'Publishes an event with a secret key (Authorization: Bearer sk_…); the application and environment come from the key. Answers only after the event is stored in history and published; on error nothing is.',
    args: { input: t.arg({ type: PublishInput, required: true }) },
    resolve: async (_root, { input }, { platform, principal }) => {
      const key = requireSecretKey(principal);
      const event = await platform.publisher.publish(key, {
        topic: input.topic,
        data: input.data,
        subject: input.subject,
        traceparent: input.traceparent,
        schemaVersion: input.schemaVersion,
        idempotencyKey: input.idempotencyKey,
      });
      return { event };
    },
  }),
);
