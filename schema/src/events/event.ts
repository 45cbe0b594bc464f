import type { EventEnvelope } from '@realtime/core';
import { builder } from '../builder.js';
import { EnvironmentNameEnum } from '../apps/enums.js';

/**
 * The envelope every event shares, generic (`Event`, data as JSON) or typed (`OrderUpdatedEvent`).
 * Field meanings are the contract of docs/protocol.md.
 */
export const EnvelopeInterface = builder.interfaceRef<EventEnvelope>('EventEnvelope').implement({
  description: 'Fields every event carries, whatever its topic.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUIDv7: time-sortable, unique; the idempotency key everywhere.' }),
    topic: t.exposeString('topic'),
    source: t.exposeString('source'),
    time: t.field({ type: 'DateTime', resolve: (event) => event.time }),
    applicationId: t.exposeID('applicationId'),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (event) => event.environment }),
    subject: t.exposeString('subject', { nullable: true, description: 'The producer’s ordering key.' }),
    schemaVersion: t.exposeInt('schemaVersion'),
    cursor: t.exposeString('cursor', { description: 'Position in the topic’s history.' }),
    traceparent: t.exposeString('traceparent', { nullable: true }),
    replayOf: t.exposeID('replayOf', { nullable: true, description: 'Id of the original event when this is a replay.' }),
  }),
});

export const EventRef = builder.objectRef<EventEnvelope>('Event').implement({
  description: 'An event of any topic, its data untyped. Typed per-topic fields return `<Topic>Event` instead.',
  interfaces: [EnvelopeInterface],
  isTypeOf: () => true,
  fields: (t) => ({
    data: t.field({ type: 'JSON', resolve: (event) => event.data }),
  }),
});
