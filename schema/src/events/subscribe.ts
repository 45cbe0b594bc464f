import {
  RealtimeError,
  assertTopicName,
  badInput,
  claimBoundFilter,
  createEventIterator,
  forbidden,
  topicGranted,
  historyGapError,
  isHistoryGap,
  openTopicStream,
  requireKey,
  topicKeys,
  type EventEnvelope,
  type KeyPrincipal,
  type StreamItem,
  type Topic,
} from '@realtime/core';
import type { GraphQLContext } from '../context.js';

const MAX_TOPICS_PER_SUBSCRIPTION = 50;

/** What subscribing to topics is allowed to see, after authorization. */
export interface TopicAccessGrant {
  key: KeyPrincipal;
  scope: { applicationId: string; environment: KeyPrincipal['environment'] };
  names: string[];
  topics: Topic[];
  /** Claim-bound filter over all the topics, when an end user's rules apply. */
  claimFilter: ((event: Readonly<EventEnvelope>) => boolean) | undefined;
}

/**
 * The one authorization of topic access for subscriptions, presence and broadcasts: an API key of the
 * environment; registered topics; for publishable keys, an end-user grant for PROTECTED topics and the
 * topics' claim-bound filters.
 */
export async function authorizeTopics(context: GraphQLContext, topics: readonly string[]): Promise<TopicAccessGrant> {
  const key = requireKey(context.principal);
  const { platform } = context;
  const names = [...new Set(topics)];
  if (names.length === 0 || names.length > MAX_TOPICS_PER_SUBSCRIPTION) {
    throw badInput(`topics must name 1–${MAX_TOPICS_PER_SUBSCRIPTION} topics`, { field: 'topics' });
  }
  const scope = { applicationId: key.applicationId, environment: key.environment };
  const registered = await platform.registry.get(scope);
  const granted: Topic[] = [];
  const claimFilters = new Map<string, (event: Readonly<EventEnvelope>) => boolean>();
  for (const name of names) {
    assertTopicName(name, 'topics');
    const topic = registered.byName.get(name);
    if (!topic) {
      throw new RealtimeError('NOT_FOUND', `topic "${name}" is not registered in this application's ${key.environment} environment`, {
        topic: name,
      });
    }
    // Secret keys are trusted servers; publishable keys need an end-user token for protected topics.
    if (key.keyKind === 'SECRET') {
      granted.push(topic);
      continue;
    }
    if (topic.access === 'PROTECTED') {
      if (!key.endUser) {
        throw forbidden(`topic "${name}" is protected: connect with connectionParams.token, an end-user JWT whose "topics" claim grants it`);
      }
      if (!topicGranted(key.endUser.topics, name)) throw forbidden(`your token's "topics" claim does not grant "${name}"`);
    }
    granted.push(topic);
    const bound = key.endUser ? claimBoundFilter(topic.claimFilters, key.endUser, name) : undefined;
    if (bound) claimFilters.set(name, bound);
  }
  const claimFilter =
    claimFilters.size === 0 ? undefined : (event: Readonly<EventEnvelope>): boolean => claimFilters.get(event.topic)?.(event) ?? true;
  return { key, scope, names, topics: granted, claimFilter };
}

/**
 * Opens a live subscription to topics of the caller key's application and environment: the only way in
 * to a channel, so tenancy is enforced here once for typed fields and `events` alike. Resolves after Redis
 * confirmed every channel, so an event published after this resolves is delivered.
 */
export async function subscribeToTopics(
  context: GraphQLContext,
  topics: readonly string[],
  options: {
    after?: string | null | undefined;
    /** Drops events before they are buffered or serialized (a compiled `where`). */
    filter?: ((event: Readonly<EventEnvelope>) => boolean) | undefined;
    /** The one subject `filter` can let through, when it requires one: live events are routed by it. */
    subject?: string | undefined;
  } = {},
): Promise<AsyncIterableIterator<StreamItem>> {
  const { scope, names, claimFilter } = await authorizeTopics(context, topics);
  const { platform } = context;
  const where = options.filter;
  const filter = claimFilter && where ? (e: Readonly<EventEnvelope>) => claimFilter(e) && where(e) : (claimFilter ?? where);
  if (options.after != null || names.length === 1) {
    if (names.length !== 1) {
      throw badInput('resuming with `after` takes exactly one topic (a cursor is a position in one topic’s history); open one subscription per topic', { field: 'after' });
    }
    const name = names[0] as string;
    return openTopicStream({
      redis: platform.redis,
      subscriber: platform.subscriber,
      keys: topicKeys(platform.config.redisKeyPrefix, scope, name),
      topic: name,
      after: options.after,
      filter,
      subject: options.subject,
      bufferSize: platform.config.subscriberBufferSize,
      onOverflow: context.onSlowConsumer,
    });
  }
  const channels = names.map((name) => topicKeys(platform.config.redisKeyPrefix, scope, name).channel);
  return createEventIterator({
    ...(filter ? { filter } : {}),
    bufferSize: platform.config.subscriberBufferSize,
    ...(context.onSlowConsumer ? { onOverflow: context.onSlowConsumer } : {}),
    start: async (push) => {
      const results = await Promise.allSettled(channels.map((channel) => platform.subscriber.listen(channel, push)));
      const stops = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        stops.forEach((stop) => stop());
        throw failed.reason;
      }
      return () => stops.forEach((stop) => stop());
    },
  });
}

/** Maps a stream item to the field's value: an event as it is, a history gap as the HISTORY_GAP error. */
export function resolveStreamItem(item: StreamItem): Readonly<EventEnvelope> {
  if (isHistoryGap(item)) throw historyGapError(item);
  return item;
}
