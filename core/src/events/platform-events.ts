import type { Pool } from '../db/pool.js';
import type { EventEnvelope } from '../protocol.js';
import { registerTopic } from '../registry/topics.js';
import type { RegistryCache } from '../registry/registry-cache.js';
import type { PublishScope, Publisher } from './publisher.js';

/**
 * The platform's own events, published into the affected application environment like any other topic,
 * so operators can subscribe to them (GraphQL, webhooks) and they show in history. Each topic is
 * registered on first use with the schema below; users cannot register names under `realtime.`.
 */
export const PLATFORM_TOPICS = {
  'realtime.webhook.endpoint.disabled': {
    description: 'A webhook endpoint was disabled: it answered 410 Gone, or failed without a success for too long.',
    schema: {
      type: 'object',
      required: ['endpointId', 'url', 'reason'],
      properties: {
        endpointId: { type: 'string' },
        url: { type: 'string' },
        reason: { type: 'string' },
      },
    },
  },
  'realtime.cdc.source.gap': {
    description: 'A CDC source lost its replication position (slot invalidated or dropped); changes in between may be missing and a snapshot follows.',
    schema: {
      type: 'object',
      required: ['sourceId', 'name', 'reason'],
      properties: {
        sourceId: { type: 'string' },
        name: { type: 'string' },
        reason: { type: 'string' },
      },
    },
  },
  'realtime.document.changed': {
    description:
      'A document was set or deleted (patches are not announced here: follow them with the document subscription). `state` is the new state after a SET when its JSON is at most 64 KiB, else omitted with stateOmitted: true.',
    schema: {
      type: 'object',
      required: ['collection', 'id', 'version', 'op'],
      properties: {
        collection: { type: 'string' },
        id: { type: 'string' },
        version: { type: 'integer' },
        op: { type: 'string', enum: ['SET', 'DELETE'] },
        state: { type: 'object' },
        stateOmitted: { type: 'boolean' },
      },
    },
  },
} as const;

export type PlatformTopic = keyof typeof PLATFORM_TOPICS;

export interface PlatformEventDeps {
  pool: Pool;
  registry: RegistryCache;
  publisher: Publisher;
  /** Tells every instance the registry changed (platform.announce). */
  announce: (message: { type: 'registry-changed'; scope: PublishScope }) => Promise<void>;
}

/** Publishes a platform event into `scope`, registering its topic there first if needed. */
export async function publishPlatformEvent(
  deps: PlatformEventDeps,
  scope: PublishScope,
  event: { topic: PlatformTopic; subject?: string | null; data: Record<string, unknown>; id?: string },
): Promise<EventEnvelope> {
  const topics = await deps.registry.get(scope);
  if (!topics.byName.has(event.topic)) {
    const definition = PLATFORM_TOPICS[event.topic];
    const { created } = await registerTopic(deps.pool, {
      ...scope,
      name: event.topic,
      schema: definition.schema,
      description: definition.description,
      platform: true,
    });
    deps.registry.invalidate(scope);
    if (created) await deps.announce({ type: 'registry-changed', scope });
  }
  return deps.publisher.publishSystem(scope, {
    topic: event.topic,
    subject: event.subject ?? null,
    data: event.data,
    id: event.id,
    source: '/platform',
  });
}
