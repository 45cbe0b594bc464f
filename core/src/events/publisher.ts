import type { Redis } from 'ioredis';
import type { KeyPrincipal } from '../auth/principal.js';
import { RealtimeError, badInput, forbidden } from '../errors.js';
import { assertSafeJson } from '../json.js';
import { formatCursor, type EnvironmentName, type EventEnvelope } from '../protocol.js';
import { PUBLISH_SCRIPT } from '../redis/publish-script.js';
import { createWriteCoalescer } from '../redis/connection.js';
import { idempotencyKey, rateKey, topicKeys } from '../redis/keys.js';
import { decodeMessage } from '../redis/subscriber.js';
import { assertMatchesSchema } from '../registry/json-schema.js';
import type { RegistryCache } from '../registry/registry-cache.js';
import { assertTopicName } from '../registry/topic-names.js';
import { PLATFORM_TOPIC_PREFIX, findSchemaVersion, schemaValidator, topicValidator } from '../registry/topics.js';
import type { Queryable } from '../db/queryable.js';
import { buildEnvelope, normalizeTraceparent } from './envelope.js';

export interface PublishInput {
  topic: string;
  data: unknown;
  subject?: string | null | undefined;
  traceparent?: string | null | undefined;
  /** Validate against this version instead of the latest (producers pinned to an older schema). */
  schemaVersion?: number | null | undefined;
  /**
   * A producer's key for this publish: a repeat with the same key within the idempotency window returns
   * the original event and publishes nothing (safe retries after a lost response).
   */
  idempotencyKey?: string | null | undefined;
}

/** What platform producers (CDC, the outbox relay, webhooks, documents) add to a publish. */
export interface SystemPublishInput extends PublishInput {
  /**
   * A fixed event id (CDC derives it from the log position, the outbox from the row id). It is also the
   * idempotency key when none is given, so a re-publish within the window returns the stored event.
   */
  id?: string | undefined;
  /** The envelope's `source`, e.g. `/cdc/<sourceId>`. @default the application's publish API source */
  source?: string | undefined;
}

/** The application and environment an event belongs to. */
export interface PublishScope {
  applicationId: string;
  environment: EnvironmentName;
}

export interface Publisher {
  /**
   * Validates and publishes one event for the key's application and environment. Resolves only after
   * the event is stored in history and published; on any error nothing was stored or published.
   */
  publish(principal: KeyPrincipal, input: PublishInput): Promise<EventEnvelope>;
  /**
   * The same path (validation, history, fan-out, webhooks) for the platform's own producers, which act
   * for an application and environment without an API key. Not rate limited per key: producers bound
   * their own rate. Never reachable from a request.
   */
  publishSystem(scope: PublishScope, input: SystemPublishInput): Promise<EventEnvelope>;
  /**
   * publishSystem in two steps, for producers that keep order without waiting for each event (CDC): the
   * promise settles after validation (a bad event rejects it, and nothing was sent); the step it gives
   * sends the event at once when called. Steps called in order are stored and published in that order, so
   * a producer may call the next step before the previous one resolved. Each step must be called once.
   */
  prepareSystem(scope: PublishScope, input: SystemPublishInput): Promise<PreparedPublish>;
}

/** Sends a prepared event (one Redis script call, written when called); resolves with the stored envelope. */
export type PreparedPublish = () => Promise<EventEnvelope>;

export interface PublisherOptions {
  redis: Redis;
  /** Where older schema versions are read from when a producer pins one. */
  db: Queryable;
  registry: RegistryCache;
  /** Prefix of every Redis key. */
  keyPrefix: string;
  /** Largest accepted `data`, in bytes of its JSON form. @default 262144 */
  maxPayloadBytes?: number;
  /** How long an idempotency key is remembered, in seconds. @default 300 (5 minutes) */
  idempotencyWindowSeconds?: number;
  /**
   * Valid publishes per second one key may make, across instances (fixed one-second windows, counted in the
   * publish script). @default 1000
   */
  ratePerKey?: number;
  /** Told the outcome of every publish: 'ok', or the error code (for metrics). */
  onOutcome?: (outcome: string) => void;
}

const MAX_SUBJECT_LENGTH = 256;
/** A failed publish's outcome for metrics: its error code. */
const outcomeOf = (error: unknown): string => (error as { code?: string }).code ?? 'INTERNAL_SERVER_ERROR';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

type PublishCommand = (
  history: string,
  epoch: string,
  offset: string,
  idempotency: string,
  rate: string,
  channel: string,
  json: string,
  maxEvents: number,
  maxAgeMs: number,
  idempotencyWindow: number,
  ratePerSecond: number,
) => Promise<[string, string, number] | ['duplicate', string] | ['rate_limited', number]>;

export function createPublisher(options: PublisherOptions): Publisher {
  const { redis, db, registry, keyPrefix, maxPayloadBytes = 256 * 1024, idempotencyWindowSeconds = 300, ratePerKey = 1000, onOutcome } = options;
  if (!('realtimePublish' in redis)) {
    redis.defineCommand('realtimePublish', { numberOfKeys: 5, lua: PUBLISH_SCRIPT });
  }
  const run = (redis as unknown as { realtimePublish: PublishCommand }).realtimePublish.bind(redis);
  /** Publishes issued in one tick (a CDC or outbox batch, concurrent requests) reach Redis in one write. */
  const coalesce = createWriteCoalescer(redis);

  /**
   * Everything but the Redis round trip: registry lookup, checks, schema validation, the stored form. The
   * returned step sends the one script call synchronously (so steps called in order are sent in order) and
   * resolves when Redis has stored and published the event. `rateKeyId` null: no per-key rate limit
   * (platform producers).
   */
  async function prepare(scope: PublishScope, rateKeyId: string | null, input: SystemPublishInput): Promise<PreparedPublish> {
    assertTopicName(input.topic, 'topic');
    const idempotencyKeyText = input.idempotencyKey ?? input.id ?? null;
    const topic = (await registry.get(scope)).byName.get(input.topic);
    if (!topic) {
      throw new RealtimeError(
        'NOT_FOUND',
        `topic "${input.topic}" is not registered in this application's ${scope.environment} environment; register it first (registerTopic)`,
        { topic: input.topic },
      );
    }
    if (idempotencyKeyText != null && !IDEMPOTENCY_KEY.test(idempotencyKeyText)) {
      throw badInput('idempotencyKey must be 1–200 visible ASCII characters', { field: 'idempotencyKey' });
    }
    if (input.subject != null && (input.subject.length === 0 || input.subject.length > MAX_SUBJECT_LENGTH)) {
      throw badInput(`subject must be 1–${MAX_SUBJECT_LENGTH} characters`, { field: 'subject' });
    }
    const dataJson = JSON.stringify(input.data);
    if (dataJson === undefined) throw badInput('data is required', { field: 'data' });
    const size = Buffer.byteLength(dataJson);
    if (size > maxPayloadBytes) {
      throw new RealtimeError(
        'PAYLOAD_TOO_LARGE',
        `data is ${size} bytes; the limit is ${maxPayloadBytes} bytes (REALTIME_MAX_PAYLOAD_BYTES)`,
        { size, limit: maxPayloadBytes },
      );
    }
    assertSafeJson(input.data);
    let schemaVersion = topic.schemaVersion;
    if (input.schemaVersion != null && input.schemaVersion !== topic.schemaVersion) {
      const pinned = await findSchemaVersion(db, topic.id, input.schemaVersion);
      if (!pinned) {
        throw new RealtimeError(
          'NOT_FOUND',
          `schema version ${input.schemaVersion} of "${topic.name}" does not exist; the latest is ${topic.schemaVersion}`,
          { topic: topic.name, field: 'schemaVersion' },
        );
      }
      assertMatchesSchema(schemaValidator(pinned), input.data, topic.name);
      schemaVersion = pinned.version;
    } else {
      assertMatchesSchema(topicValidator(topic), input.data, topic.name);
    }

    const envelope = buildEnvelope({
      topic: topic.name,
      applicationId: scope.applicationId,
      environment: scope.environment,
      schemaVersion,
      data: input.data,
      subject: input.subject,
      traceparent: normalizeTraceparent(input.traceparent),
      id: input.id,
      source: input.source,
    });
    // The stored form is the envelope without its cursor, `data` last (as in buildEnvelope): the data's
    // JSON, already made for the size check, is spliced in rather than stringified a second time.
    const { cursor: _unassigned, data: _data, ...head } = envelope;
    const keys = topicKeys(keyPrefix, scope, topic.name);
    const idempotent = idempotencyKeyText != null;
    const headJson = JSON.stringify(head);
    const storedJson = `${headJson.slice(0, -1)},"data":${dataJson}}`;
    return async () => {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      // One round trip: rate check, idempotency check, history append, publish (see publish-script.ts).
      coalesce();
      const result = await run(
        keys.history,
        keys.epoch,
        keys.offset,
        idempotent ? idempotencyKey(keyPrefix, scope, `${topic.name}:${idempotencyKeyText}`) : keys.offset,
        rateKeyId === null ? keys.offset : rateKey(keyPrefix, scope, rateKeyId, second),
        keys.channel,
        storedJson,
        topic.retentionMaxEvents,
        topic.retentionMaxAgeSeconds * 1000,
        idempotent ? idempotencyWindowSeconds : 0,
        rateKeyId === null ? 0 : ratePerKey,
      );
      if (result[0] === 'rate_limited') {
        throw new RealtimeError('RATE_LIMITED', `this key may publish ${ratePerKey} events per second; retry shortly`, {
          limit: ratePerKey,
          retryAfterMs: (second + 1) * 1000 - now,
        });
      }
      if (result[0] === 'duplicate') return decodeMessage(result[1] as string);
      const [epoch, position, offset] = result as [string, string, number];
      envelope.cursor = formatCursor({ epoch, offset: Number(offset), position });
      return envelope;
    };
  }

  async function observed(run: () => Promise<EventEnvelope>): Promise<EventEnvelope> {
    if (!onOutcome) return run();
    try {
      const event = await run();
      onOutcome('ok');
      return event;
    } catch (error) {
      onOutcome(outcomeOf(error));
      throw error;
    }
  }

  /** Tells onOutcome how a step ended. */
  function observedSend(send: PreparedPublish): PreparedPublish {
    return () => observed(send);
  }

  return {
    publish(principal, input) {
      const scope = { applicationId: principal.applicationId, environment: principal.environment };
      if (input.topic.startsWith(PLATFORM_TOPIC_PREFIX)) {
        return Promise.reject(forbidden(`topics under "${PLATFORM_TOPIC_PREFIX}" carry platform events; only the platform publishes them`));
      }
      // A key's publish never sets the id or source: those are for platform producers.
      const { topic, data, subject, traceparent, schemaVersion, idempotencyKey: key } = input;
      return observed(async () => (await prepare(scope, principal.keyId, { topic, data, subject, traceparent, schemaVersion, idempotencyKey: key }))());
    },
    publishSystem(scope, input) {
      return observed(async () => (await prepare(scope, null, input))());
    },
    async prepareSystem(scope, input) {
      try {
        return observedSend(await prepare(scope, null, input));
      } catch (error) {
        onOutcome?.(outcomeOf(error));
        throw error;
      }
    },
  };
}
