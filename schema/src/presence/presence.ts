import {
  RealtimeError,
  assertSafeJson,
  broadcastChannel,
  createEventIterator,
  createMessageDecoder,
  forbidden,
  presenceKeys,
  type PresenceMember,
} from '@realtime/core';
import { builder } from '../builder.js';
import { authorizeTopics } from '../events/subscribe.js';

const MAX_BROADCAST_BYTES = 16 * 1024;

const PresenceMemberRef = builder.objectRef<PresenceMember>('PresenceMember').implement({
  description: 'A member present on a topic: an end user, by the `sub` of their token, with their `presence` claim as data.',
  fields: (t) => ({
    id: t.exposeString('id'),
    data: t.field({ type: 'JSON', nullable: true, resolve: (m) => m.data ?? null }),
  }),
});

const PresenceEventType = builder.enumType('PresenceEventType', {
  values: {
    SNAPSHOT: { description: 'First message: everyone present now.' },
    JOIN: { description: 'A member’s first connection arrived.' },
    LEAVE: { description: 'A member’s last connection left, or stopped sending heartbeats (its server died).' },
  },
});

interface PresenceEventShape {
  type: 'SNAPSHOT' | 'JOIN' | 'LEAVE';
  members: PresenceMember[];
}

const PresenceEventRef = builder.objectRef<PresenceEventShape>('PresenceEvent').implement({
  description: 'SNAPSHOT first, then JOIN and LEAVE changes. A change may repeat what the snapshot already showed: apply them idempotently.',
  fields: (t) => ({
    type: t.field({ type: PresenceEventType, resolve: (e) => e.type }),
    members: t.field({ type: [PresenceMemberRef], description: 'All members (SNAPSHOT) or the one that changed.', resolve: (e) => e.members }),
  }),
});

/**
 * A join or leave as the subscription yields it: one object per change for every watcher in the process (the
 * change itself is decoded once, see presence.listen), so their results are executed and serialized once.
 */
const presenceEvents = new WeakMap<object, PresenceEventShape>();
const presenceEventOf = (change: Readonly<{ type: PresenceEventShape['type']; member: PresenceMember }>): PresenceEventShape => {
  let event = presenceEvents.get(change);
  if (!event) presenceEvents.set(change, (event = { type: change.type, members: [change.member] }));
  return event;
};

builder.subscriptionField('presence', (t) =>
  t.field({
    type: PresenceEventRef,
    description:
      'Who is on a topic. A connection with an end-user token joins as its `sub` (data: its `presence` claim) for as long as this subscription lasts; others only watch. Entries expire without heartbeats, so members of a crashed server leave within about 40 s.',
    args: { topic: t.arg.string({ required: true }) },
    subscribe: async (_root, args, context) => {
      const { key, scope } = await authorizeTopics(context, [args.topic]);
      const { presence } = context.platform;
      const keys = presenceKeys(context.platform.config.redisKeyPrefix, scope, args.topic);
      return createEventIterator<PresenceEventShape>({
        bufferSize: context.platform.config.subscriberBufferSize,
        ...(context.onSlowConsumer ? { onOverflow: context.onSlowConsumer } : {}),
        start: async (push) => {
          let ready = false;
          const early: PresenceEventShape[] = [];
          const stopListening = await presence.listen(keys, (change) => {
            const event = presenceEventOf(change);
            if (ready) push(event);
            else early.push(event);
          });
          let leave: (() => Promise<void>) | undefined;
          try {
            if (key.endUser) leave = await presence.join(keys, { id: key.endUser.sub, data: key.endUser.claims.presence ?? null });
            push({ type: 'SNAPSHOT', members: await presence.snapshot(keys) });
          } catch (error) {
            stopListening();
            await leave?.();
            throw error;
          }
          early.forEach(push);
          ready = true;
          return () => {
            stopListening();
            void leave?.();
          };
        },
      });
    },
    resolve: (event) => event as PresenceEventShape,
  }),
);

interface BroadcastShape {
  topic: string;
  from: string | null;
  data: unknown;
  time: string;
}

const BroadcastRef = builder.objectRef<BroadcastShape>('Broadcast').implement({
  description: 'An ephemeral client message: delivered to connected subscribers, never stored or replayed.',
  fields: (t) => ({
    topic: t.exposeString('topic'),
    from: t.exposeString('from', { nullable: true, description: 'The sender’s `sub`, when it had an end-user token.' }),
    data: t.field({ type: 'JSON', resolve: (b) => b.data }),
    time: t.field({ type: 'DateTime', resolve: (b) => b.time }),
  }),
});

/** Broadcasts decoded once per process: every subscriber of a channel gets the same object (one execution). */
const decodeBroadcast = createMessageDecoder<BroadcastShape>();

builder.subscriptionField('broadcasts', (t) =>
  t.field({
    type: BroadcastRef,
    description: 'Client messages sent with `broadcast` on a topic that allows them.',
    args: { topic: t.arg.string({ required: true }) },
    subscribe: async (_root, args, context) => {
      const { scope } = await authorizeTopics(context, [args.topic]);
      const channel = broadcastChannel(context.platform.config.redisKeyPrefix, scope, args.topic);
      return createEventIterator<BroadcastShape>({
        bufferSize: context.platform.config.subscriberBufferSize,
        ...(context.onSlowConsumer ? { onOverflow: context.onSlowConsumer } : {}),
        start: (push) =>
          context.platform.subscriber.raw(channel, (message) => {
            try {
              push(decodeBroadcast(message));
            } catch {
              // Malformed broadcasts are dropped.
            }
          }),
      });
    },
    resolve: (broadcast) => broadcast as BroadcastShape,
  }),
);

builder.mutationField('broadcast', (t) =>
  t.boolean({
    description:
      'Sends an ephemeral message (≤ 16 KiB JSON) to the `broadcasts` subscribers of a topic that allows client messages. Only over the WebSocket connection, rate limited per connection.',
    args: { topic: t.arg.string({ required: true }), data: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, context) => {
      const { key, scope, topics } = await authorizeTopics(context, [args.topic]);
      if (!topics[0]?.clientMessages) throw forbidden(`topic "${args.topic}" does not allow client messages (setTopicAccess clientMessages: true)`);
      if (!context.takeBroadcastToken) throw forbidden('broadcast is sent over the WebSocket connection (graphql-ws)');
      if (!context.takeBroadcastToken()) {
        throw new RealtimeError('RATE_LIMITED', 'this connection sends broadcasts faster than allowed; slow down', { field: 'broadcast' });
      }
      assertSafeJson(args.data);
      const json = JSON.stringify({ topic: args.topic, from: key.endUser?.sub ?? null, data: args.data, time: new Date().toISOString() });
      if (Buffer.byteLength(json) > MAX_BROADCAST_BYTES) {
        throw new RealtimeError('PAYLOAD_TOO_LARGE', `a broadcast may be at most ${MAX_BROADCAST_BYTES} bytes`, { limit: MAX_BROADCAST_BYTES });
      }
      await context.platform.redis.publish(broadcastChannel(context.platform.config.redisKeyPrefix, scope, args.topic), json);
      return true;
    },
  }),
);
