import { createKeyCache, type KeyCache } from './apps/key-cache.js';
import { ensureOwner } from './auth/users.js';
import { createSecretBox, resolveSecretKey, type SecretBox } from './auth/encryption.js';
import type { Config } from './config.js';
import { createPool, ensureDatabase, migrate, type Pool } from './db/pool.js';
import { createPublisher, type Publisher } from './events/publisher.js';
import { closeRedis, connectRedis, type Redis } from './redis/connection.js';
import { registryChannel, type Scope } from './redis/keys.js';
import { createSubscriber, type Subscriber } from './redis/subscriber.js';
import { createRegistryCache, type RegistryCache } from './registry/registry-cache.js';
import { createPresence, type Presence } from './presence/presence.js';
import { createDocumentStore, type DocumentStore, type DocumentWrite } from './documents/document-store.js';
import { publishPlatformEvent } from './events/platform-events.js';

/** Announcements every instance hears on the control channel. */
export type ControlMessage =
  | { type: 'registry-changed'; scope: Scope }
  | { type: 'key-revoked'; keyId: string }
  /** A webhook endpoint was created, changed, enabled, disabled or deleted: dispatchers reload their endpoints. */
  | { type: 'webhooks-changed'; scope: Scope }
  /** A document collection's access settings changed: instances drop their cached copy. */
  | { type: 'collection-changed'; scope: Scope; name: string };

/**
 * Everything a role needs, connected: PostgreSQL (created and migrated), one Redis connection for commands,
 * one for Pub/Sub, and the caches that keep the hot paths off PostgreSQL.
 */
export interface Platform {
  readonly config: Config;
  readonly pool: Pool;
  readonly redis: Redis;
  readonly subscriber: Subscriber;
  readonly registry: RegistryCache;
  readonly keys: KeyCache;
  readonly publisher: Publisher;
  /** Encrypts secrets at rest (JWT secrets) with REALTIME_SECRET_KEY. */
  readonly secrets: SecretBox;
  /** Who is connected to which topic, kept alive by heartbeats. */
  readonly presence: Presence;
  /** Shared JSON documents (sync): Redis for live state and patches, PostgreSQL for durability. */
  readonly documents: DocumentStore;
  /** Tells every instance (this one at once) about a change. */
  announce(message: ControlMessage): Promise<void>;
  /** Adds a handler for announcements (this instance's own included). */
  onControl(handler: (message: ControlMessage) => void): () => void;
  /** True for each backing service that answered just now. */
  health(): Promise<{ postgres: boolean; redis: boolean }>;
  close(): Promise<void>;
}

export interface PlatformOptions {
  config: Config;
  /** Creates the first owner account when no user exists. @default true */
  bootstrapOwner?: boolean;
  /** Called with the generated owner password, when one had to be generated. */
  onGeneratedPassword?: (email: string, password: string) => void;
  /** Told the outcome of every publish ('ok' or the error code), for metrics. */
  onPublishOutcome?: (outcome: string) => void;
  /** Where start-up warnings go (a missing REALTIME_SECRET_KEY). @default stderr */
  warn?: (message: string) => void;
}

/** Connects to PostgreSQL and Redis, failing fast with a message naming the URL when either is down. */
export async function createPlatform(options: PlatformOptions): Promise<Platform> {
  const { config, bootstrapOwner = true, onGeneratedPassword, warn = (m: string) => process.stderr.write(`warning: ${m}\n`) } = options;
  await ensureDatabase(config.databaseUrl);
  const pool = await createPool(config.databaseUrl);
  let redis: Redis | undefined;
  let subscriberRedis: Redis | undefined;
  let secrets: SecretBox;
  try {
    await migrate(pool);
    secrets = createSecretBox(await resolveSecretKey(pool, config.secretKey, warn));
    if (bootstrapOwner) {
      const owner = await ensureOwner(pool, { email: config.adminEmail, password: config.adminPassword });
      if (owner.generatedPassword !== undefined) onGeneratedPassword?.(config.adminEmail, owner.generatedPassword);
    }
    redis = await connectRedis(config.redisUrl, 'realtime:commands');
    subscriberRedis = await connectRedis(config.redisUrl, 'realtime:subscriber');
  } catch (error) {
    redis?.disconnect();
    subscriberRedis?.disconnect();
    await pool.end();
    throw error;
  }
  const commands = redis;
  const subscriber = createSubscriber(subscriberRedis);
  const registry = createRegistryCache({ db: pool });
  const presence = createPresence({
    redis: commands,
    subscriber,
    ttlMs: config.presenceTtlMs,
    heartbeatMs: Math.max(100, Math.floor(config.presenceTtlMs / 3)),
  });
  const keys = createKeyCache({ db: pool });
  const handlers = new Set<(message: ControlMessage) => void>();
  const channel = registryChannel(config.redisKeyPrefix);

  const publisher = createPublisher({
    redis: commands,
    db: pool,
    registry,
    keyPrefix: config.redisKeyPrefix,
    maxPayloadBytes: config.maxPayloadBytes,
    ratePerKey: config.publishRatePerKey,
    ...(options.onPublishOutcome ? { onOutcome: options.onPublishOutcome } : {}),
  });
  const announce = async (message: ControlMessage): Promise<void> => {
    dispatch(message);
    await commands.publish(channel, JSON.stringify(message));
  };
  const documents = createDocumentStore({
    redis: commands,
    pool,
    subscriber,
    keyPrefix: config.redisKeyPrefix,
    maxDocumentBytes: config.maxDocumentBytes,
    patchWindow: config.documentPatchWindow,
    onWrite: (write) => {
      if (write.op !== 'PATCH') void announceDocumentWrite(write).catch(() => undefined);
    },
  });
  /** Sets and deletes show in history and the debugger as `realtime.document.changed` (best effort: the write stands). */
  const announceDocumentWrite = (write: DocumentWrite): Promise<unknown> => {
    const small = write.stateText !== null && write.stateText.length <= 64 * 1024;
    return publishPlatformEvent({ pool, registry, publisher, announce }, write.scope, {
      topic: 'realtime.document.changed',
      subject: `${write.collection}/${write.id}`,
      data: {
        collection: write.collection,
        id: write.id,
        version: write.version,
        op: write.op,
        ...(write.stateText === null ? {} : small ? { state: JSON.parse(write.stateText) as unknown } : { stateOmitted: true }),
      },
    });
  };

  const dispatch = (message: ControlMessage): void => {
    if (message.type === 'registry-changed') registry.invalidate(message.scope);
    if (message.type === 'key-revoked') keys.forgetKey(message.keyId);
    if (message.type === 'collection-changed') documents.forgetCollection(message.scope, message.name);
    for (const handler of handlers) handler(message);
  };
  await subscriber.control(channel, (text) => {
    try {
      dispatch(JSON.parse(text) as ControlMessage);
    } catch {
      // A malformed announcement is ignored; caches still revalidate by age.
    }
  });

  return {
    config,
    pool,
    redis: commands,
    subscriber,
    registry,
    keys,
    secrets,
    presence,
    documents,
    publisher,
    announce,
    onControl(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async health() {
      const timeout = <T>(p: Promise<T>): Promise<boolean> =>
        Promise.race([
          p.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
        ]).catch(() => false);
      const [postgres, redisOk] = await Promise.all([timeout(pool.query('SELECT 1')), timeout(commands.ping())]);
      return { postgres, redis: redisOk };
    },
    async close() {
      await presence.close().catch(() => undefined);
      await subscriber.close();
      await closeRedis(commands);
      await pool.end();
    },
  };
}
