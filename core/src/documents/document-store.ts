import type { Redis } from 'ioredis';
import type { Operation } from 'fast-json-patch';
import type { Pool } from '../db/pool.js';
import { RealtimeError, badInput } from '../errors.js';
import { assertSafeJson } from '../json.js';
import type { Scope } from '../redis/keys.js';
import type { Subscriber } from '../redis/subscriber.js';
import { collectionNotFound, findCollection, type DocumentCollection } from './collections.js';
import { documentKeys, type DocumentKeys } from './document-keys.js';
import { assertCollectionName, assertDocumentId } from './document-names.js';
import { applyDocumentPatch, assertPatchShape } from './document-patch.js';
import { COMMIT_SCRIPT, LOAD_SCRIPT } from './document-scripts.js';
import { openDocumentStream, type DocumentSyncPoint } from './document-stream.js';
import type { DocumentChange, DocumentSnapshot } from './document-types.js';

/** A committed write, told to the platform (history and debugger events for SET and DELETE). */
export interface DocumentWrite {
  scope: Scope;
  collection: string;
  id: string;
  version: number;
  op: 'SET' | 'PATCH' | 'DELETE';
  /** The new state as JSON text (null after DELETE). */
  stateText: string | null;
}

/**
 * JSON documents shared by many clients: read, set, patch (RFC 6902), delete, and watched live.
 *
 * Writes are optimistic: each is computed in Node from the state at version v, committed to PostgreSQL
 * only if the row is still at v (`UPDATE … WHERE version = v`: the commit point, so an acknowledged write
 * survives losing Redis), then installed in Redis by one Lua script that moves the version to v + 1,
 * appends the change to the patch window and publishes it. With `ifVersion` a stale version is a CONFLICT
 * carrying `extensions.currentVersion`; without it the store retries its own compare-and-set. Writes to one
 * document from one process are queued and committed in batches (group commit), with the same outcome as
 * one after another. Every error leaves the document unchanged.
 */
export interface DocumentStore {
  /** The document, or null when it was never written or is deleted. */
  get(scope: Scope, collection: string, id: string): Promise<DocumentSnapshot | null>;
  /** Existing documents of a collection by id, read from PostgreSQL (the commit point). */
  list(scope: Scope, collection: string, options?: { first?: number; after?: string | null }): Promise<DocumentSnapshot[]>;
  /** Replaces the whole state (creating the document when absent). */
  set(scope: Scope, collection: string, id: string, state: unknown, options?: WriteOptions): Promise<DocumentSnapshot>;
  /** Applies JSON Patch operations, all or none. The document must exist. */
  patch(scope: Scope, collection: string, id: string, patch: unknown, options?: WriteOptions): Promise<DocumentSnapshot>;
  /** Deletes an existing document; its version still rises (a later set continues from it). */
  delete(scope: Scope, collection: string, id: string, options?: WriteOptions): Promise<DocumentSnapshot>;
  /** A live view of one document's changes; see openDocumentStream. */
  watch(scope: Scope, collection: string, id: string, options?: WatchOptions): Promise<AsyncIterableIterator<DocumentChange>>;
  /** The collection's settings (cached briefly), or NOT_FOUND. */
  collection(scope: Scope, name: string): Promise<DocumentCollection>;
  /** Drops a collection's cached settings (after an access change). */
  forgetCollection(scope: Scope, name: string): void;
}

export interface WriteOptions {
  /** Write only if the document is at this version now (0: it was never written); else CONFLICT. */
  ifVersion?: number | null | undefined;
}

export interface WatchOptions {
  sinceVersion?: number | null | undefined;
  bufferSize?: number;
  onOverflow?: (() => void) | undefined;
}

export interface DocumentStoreOptions {
  redis: Redis;
  pool: Pool;
  subscriber: Subscriber;
  keyPrefix: string;
  /** Largest state, in bytes of its JSON form. @default 1048576 (1 MiB) */
  maxDocumentBytes?: number;
  /** Recent changes kept per document for catch-up. @default 100 */
  patchWindow?: number;
  /** A document's Redis keys expire after this long without a write or load (PostgreSQL keeps it). @default 86400000 (24 h) */
  idleExpiryMs?: number;
  /** Compare-and-set attempts of a write without ifVersion before it gives up with CONFLICT. @default 50 */
  maxAttempts?: number;
  /** How long collection settings are cached. @default 5000 */
  collectionCacheMs?: number;
  /** Told of every committed write, after it is acknowledged in Redis. Errors are the callee's to handle. */
  onWrite?: (write: DocumentWrite) => void;
}

interface Current {
  version: number;
  stateText: string | null;
  updatedAt: string | null;
  /** The parsed state, when at hand (never modified: patches apply to a copy). */
  parsed?: Record<string, unknown> | null;
}

/** One write waiting in its document's lane. */
interface PendingWrite {
  ifVersion: number | null;
  compute: (current: Current) => NextState;
  resolve: (snapshot: DocumentSnapshot) => void;
  reject: (error: unknown) => void;
}

/** Most writes committed together. */
const MAX_BATCH = 100;

interface NextState {
  op: 'SET' | 'PATCH' | 'DELETE';
  stateText: string | null;
  state: Record<string, unknown> | null;
  patchJson?: string;
}

type CommitCommand = (
  doc: string, window: string, base: number, version: number, state: string, updatedAt: string, windowSize: number, expiryMs: number,
  firstKept: number, restartsWindow: string, channel: string, ...messages: string[]
) => Promise<[string, number]>;
type LoadCommand = (doc: string, window: string, channel: string, version: number, state: string, updatedAt: string, message: string, expiryMs: number) => Promise<[string | null, string | null, string | null]>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The change message (see DocumentChange), with the state embedded as the JSON text it already is. */
function changeMessage(head: Omit<DocumentChange, 'patch' | 'state'>, patchJson: string | null, stateText: string | null): string {
  return `{"collection":${JSON.stringify(head.collection)},"id":${JSON.stringify(head.id)},"version":${head.version},"op":"${head.op}","exists":${head.exists},"updatedAt":${JSON.stringify(head.updatedAt)},"patch":${patchJson ?? 'null'},"state":${stateText ?? 'null'}}`;
}

export function createDocumentStore(options: DocumentStoreOptions): DocumentStore {
  const {
    redis,
    pool,
    subscriber,
    keyPrefix,
    maxDocumentBytes = 1024 * 1024,
    patchWindow = 100,
    idleExpiryMs = 24 * 3600 * 1000,
    maxAttempts = 50,
    collectionCacheMs = 5_000,
    onWrite,
  } = options;
  if (!('realtimeDocumentCommit' in redis)) {
    redis.defineCommand('realtimeDocumentCommit', { numberOfKeys: 2, lua: COMMIT_SCRIPT });
    redis.defineCommand('realtimeDocumentLoad', { numberOfKeys: 2, lua: LOAD_SCRIPT });
  }
  const commands = redis as unknown as { realtimeDocumentCommit: CommitCommand; realtimeDocumentLoad: LoadCommand };
  const commit = commands.realtimeDocumentCommit.bind(redis);
  const load = commands.realtimeDocumentLoad.bind(redis);

  const collections = new Map<string, { value: Promise<DocumentCollection>; expiresAt: number }>();
  const collectionKey = (scope: Scope, name: string): string => `${scope.applicationId}:${scope.environment}:${name}`;

  function collection(scope: Scope, name: string): Promise<DocumentCollection> {
    assertCollectionName(name);
    const key = collectionKey(scope, name);
    const now = Date.now();
    const cached = collections.get(key);
    if (cached && cached.expiresAt > now) return cached.value;
    const value = findCollection(pool, scope, name).then((found) => {
      if (!found) throw collectionNotFound(scope, name);
      return found;
    });
    if (collections.size > 10_000) collections.clear();
    collections.set(key, { value, expiresAt: now + collectionCacheMs });
    value.catch(() => collections.delete(key));
    return value;
  }

  /**
   * Writes to one document from this process queue in a lane: while one batch is being committed, the writes
   * that arrive wait, and the next batch commits all of them at once (group commit): one PostgreSQL update and
   * one Redis script for the lot, so a busy document costs a few round trips per batch, not per write.
   */
  const lanes = new Map<string, PendingWrite[]>();

  async function readRow(scope: Scope, name: string, id: string): Promise<Current | undefined> {
    const { rows } = await pool.query<{ version: string; state: string | null; updated_at: Date }>(
      'SELECT version, state::text AS state, updated_at FROM documents WHERE application_id = $1 AND environment = $2 AND collection = $3 AND id = $4',
      [scope.applicationId, scope.environment, name, id],
    );
    const row = rows[0];
    return row && { version: Number(row.version), stateText: row.state, updatedAt: row.updated_at.toISOString() };
  }

  /** Installs a PostgreSQL row in Redis unless Redis holds it or newer; returns what Redis holds then. */
  async function install(keys: DocumentKeys, name: string, id: string, row: Current): Promise<Current> {
    const message = changeMessage(
      { collection: name, id, version: row.version, op: 'SNAPSHOT', exists: row.stateText !== null, updatedAt: row.updatedAt },
      null,
      row.stateText,
    );
    const [version, stateText, updatedAt] = await load(keys.doc, keys.window, keys.channel, row.version, row.stateText ?? '', row.updatedAt ?? '', message, idleExpiryMs);
    return { version: Number(version ?? 0), stateText: stateText || null, updatedAt: updatedAt || null };
  }

  /** The document as Redis holds it, loading it from PostgreSQL on a miss. Version 0: never written. */
  async function readCurrent(scope: Scope, keys: DocumentKeys, name: string, id: string): Promise<Current> {
    const [version, stateText, updatedAt] = await redis.hmget(keys.doc, 'v', 's', 'u');
    if (version != null) return { version: Number(version), stateText: stateText ?? null, updatedAt: updatedAt ?? null };
    const row = await readRow(scope, name, id);
    return row ? install(keys, name, id, row) : { version: 0, stateText: null, updatedAt: null };
  }

  const snapshotOf = (name: string, id: string, current: Current): DocumentSnapshot => ({
    collection: name,
    id,
    version: current.version,
    state: current.stateText === null ? null : (JSON.parse(current.stateText) as Record<string, unknown>),
    exists: current.stateText !== null,
    updatedAt: current.updatedAt,
  });

  const conflict = (name: string, id: string, ifVersion: number, currentVersion: number): RealtimeError =>
    new RealtimeError(
      'CONFLICT',
      `document "${name}/${id}" is at version ${currentVersion}, not ${ifVersion}: read it again (or follow your subscription), then retry with ifVersion ${currentVersion}`,
      { collection: name, id, currentVersion },
    );

  const notFound = (name: string, id: string, current: Current): RealtimeError =>
    new RealtimeError(
      'NOT_FOUND',
      `document "${name}/${id}" does not exist${current.version > 0 ? ` (deleted at version ${current.version})` : ''}; create it with setDocument`,
      { collection: name, id, currentVersion: current.version },
    );

  function checkedState(state: unknown, what: string): string {
    if (!isObject(state)) {
      throw badInput(`${what}: a document's state is a JSON object, not ${state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state}`, { field: 'state' });
    }
    const text = JSON.stringify(state);
    const size = Buffer.byteLength(text);
    if (size > maxDocumentBytes) {
      throw new RealtimeError('PAYLOAD_TOO_LARGE', `${what}: the document would be ${size} bytes; the limit is ${maxDocumentBytes} bytes (REALTIME_MAX_DOCUMENT_BYTES); nothing was written`, {
        field: 'state',
        size,
        limit: maxDocumentBytes,
      });
    }
    return text;
  }

  /** Commits `version` to PostgreSQL if the row is still at `base`; returns its updatedAt, or null when it is not. */
  async function commitRow(scope: Scope, name: string, id: string, base: number, version: number, stateText: string | null): Promise<string | null> {
    try {
      const { rows } =
        base === 0
          ? await pool.query<{ updated_at: Date }>(
              `INSERT INTO documents (application_id, environment, collection, id, version, state) VALUES ($1, $2, $3, $4, $6, $5::json)
               ON CONFLICT DO NOTHING RETURNING updated_at`,
              [scope.applicationId, scope.environment, name, id, stateText, version],
            )
          : await pool.query<{ updated_at: Date }>(
              `UPDATE documents SET version = $7, state = $5::json, updated_at = now()
               WHERE application_id = $1 AND environment = $2 AND collection = $3 AND id = $4 AND version = $6 RETURNING updated_at`,
              [scope.applicationId, scope.environment, name, id, stateText, base, version],
            );
      return rows[0] ? rows[0].updated_at.toISOString() : null;
    } catch (error) {
      if ((error as { code?: string }).code === '23503') throw collectionNotFound(scope, name);
      throw error;
    }
  }

  async function write(
    scope: Scope,
    name: string,
    id: string,
    ifVersion: number | null | undefined,
    compute: (current: Current) => NextState,
  ): Promise<DocumentSnapshot> {
    assertCollectionName(name);
    assertDocumentId(id);
    if (ifVersion != null && (!Number.isSafeInteger(ifVersion) || ifVersion < 0)) {
      throw badInput('ifVersion must be a version you read (an integer ≥ 0; 0: the document was never written)', { field: 'ifVersion' });
    }
    const keys = documentKeys(keyPrefix, scope, name, id);
    return new Promise<DocumentSnapshot>((resolve, reject) => {
      const waiting = lanes.get(keys.doc);
      const pending: PendingWrite = { ifVersion: ifVersion ?? null, compute, resolve, reject };
      if (waiting) {
        waiting.push(pending);
        return;
      }
      const queue = [pending];
      lanes.set(keys.doc, queue);
      void (async () => {
        let known: Current | undefined;
        try {
          while (queue.length > 0) known = await commitBatch(scope, name, id, keys, queue.splice(0, MAX_BATCH), known);
        } finally {
          lanes.delete(keys.doc);
        }
      })();
    });
  }

  /**
   * Commits a batch of writes as if they ran one after another: each is computed from the state the previous
   * one left (a write that fails — bad patch, stale ifVersion — is left out and the next one sees the state
   * before it), then versions base + 1 … base + k are committed to PostgreSQL in one compare-and-set and
   * installed and published in Redis by one script. Settles every write of the batch; never throws.
   *
   * `known` is what the previous batch of this lane committed: the next batch starts from it without reading
   * Redis, and its Redis script is not awaited before the next batch starts (its writes are answered when it
   * completes). Redis runs the scripts in the order they were sent on the one connection, so publishes stay
   * in version order; a stale `known` (another instance wrote) fails the PostgreSQL compare-and-set, and a
   * CONFLICT against it is checked again against Redis before it is reported. Resolves with what it committed.
   */
  async function commitBatch(
    scope: Scope,
    name: string,
    id: string,
    keys: DocumentKeys,
    batch: PendingWrite[],
    known: Current | undefined,
  ): Promise<Current | undefined> {
    try {
      let current = known ?? (await readCurrent(scope, keys, name, id));
      let fromLane = known !== undefined;
      for (let attempt = 1; ; attempt += 1) {
        const accepted: { write: PendingWrite; next: NextState; version: number }[] = [];
        const refused: { write: PendingWrite; error: unknown }[] = [];
        let state: Current = current;
        for (const write of batch) {
          try {
            if (write.ifVersion !== null && state.version !== write.ifVersion) throw conflict(name, id, write.ifVersion, state.version);
            const next = write.compute(state);
            const version = state.version + 1;
            accepted.push({ write, next, version });
            state = { version, stateText: next.stateText, updatedAt: null, parsed: next.state };
          } catch (error) {
            refused.push({ write, error });
          }
        }
        if (fromLane && refused.some(({ error }) => (error as { code?: string }).code === 'CONFLICT')) {
          // The lane's state may be older than Redis (another instance wrote): decide conflicts on Redis's.
          current = await readCurrent(scope, keys, name, id);
          fromLane = false;
          continue;
        }
        if (accepted.length === 0) {
          refused.forEach(({ write, error }) => write.reject(error));
          return current;
        }
        const updatedAt = await commitRow(scope, name, id, current.version, state.version, state.stateText);
        if (updatedAt === null) {
          // Another writer (another instance, or one that died before its Redis step) moved the row on:
          // bring Redis up to PostgreSQL's row and compute the whole batch again from it.
          const row = await readRow(scope, name, id);
          if (!row) throw collectionNotFound(scope, name);
          current = await install(keys, name, id, row);
          fromLane = false;
          if (attempt >= maxAttempts) {
            const error = new RealtimeError('CONFLICT', `document "${name}/${id}" changed ${attempt} times while this write was computed; retry`, {
              collection: name,
              id,
              currentVersion: current.version,
            });
            batch.forEach((write) => write.reject(error));
            return undefined;
          }
          continue;
        }
        const messages = accepted.map(({ next, version }) =>
          changeMessage(
            { collection: name, id, version, op: next.op, exists: next.stateText !== null, updatedAt },
            next.patchJson ?? null,
            next.op === 'PATCH' ? null : next.stateText,
          ),
        );
        // The window needs nothing before the last change that carries the whole state (SET, DELETE).
        let wholeState = -1;
        accepted.forEach(({ next }, i) => {
          if (next.op !== 'PATCH') wholeState = i;
        });
        refused.forEach(({ write, error }) => write.reject(error));
        commit(
          keys.doc, keys.window, current.version, state.version, state.stateText ?? '', updatedAt, patchWindow, idleExpiryMs,
          Math.max(wholeState, 0) + 1, wholeState >= 0 ? '1' : '0', keys.channel, ...messages,
        ).then(
          () => {
            for (const { write, next, version } of accepted) {
              onWrite?.({ scope, collection: name, id, version, op: next.op, stateText: next.stateText });
              write.resolve({ collection: name, id, version, state: next.state, exists: next.stateText !== null, updatedAt });
            }
          },
          (error: unknown) => accepted.forEach(({ write }) => write.reject(error)),
        );
        return { ...state, updatedAt };
      }
    } catch (error) {
      batch.forEach((write) => write.reject(error));
      return undefined;
    }
  }

  return {
    collection,
    forgetCollection(scope, name) {
      collections.delete(collectionKey(scope, name));
    },

    async get(scope, name, id) {
      assertCollectionName(name);
      assertDocumentId(id);
      const current = await readCurrent(scope, documentKeys(keyPrefix, scope, name, id), name, id);
      return current.stateText === null ? null : snapshotOf(name, id, current);
    },

    async list(scope, name, { first = 100, after = null } = {}) {
      assertCollectionName(name);
      if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('first must be 1–1000', { field: 'first' });
      const { rows } = await pool.query<{ id: string; version: string; state: string; updated_at: Date }>(
        `SELECT id, version, state::text AS state, updated_at FROM documents
         WHERE application_id = $1 AND environment = $2 AND collection = $3 AND state IS NOT NULL AND ($4::text IS NULL OR id > $4)
         ORDER BY id LIMIT $5`,
        [scope.applicationId, scope.environment, name, after, first],
      );
      return rows.map((row) => snapshotOf(name, row.id, { version: Number(row.version), stateText: row.state, updatedAt: row.updated_at.toISOString() }));
    },

    async set(scope, name, id, state, options = {}) {
      assertSafeJson(state);
      let stateText: string | undefined;
      return write(scope, name, id, options.ifVersion, () => {
        stateText ??= checkedState(state, 'setDocument');
        return { op: 'SET', stateText, state: state as Record<string, unknown> };
      });
    },

    async patch(scope, name, id, patch, options = {}) {
      assertPatchShape(patch);
      const operations: Operation[] = patch.map((op) => {
        const { op: kind, path, from, value } = op as Operation & { from?: string; value?: unknown };
        return { op: kind, path, ...(from !== undefined ? { from } : {}), ...('value' in op ? { value } : {}) } as Operation;
      });
      const patchJson = JSON.stringify(operations);
      return write(scope, name, id, options.ifVersion, (current) => {
        if (current.stateText === null) throw notFound(name, id, current);
        const next = applyDocumentPatch(current.parsed ?? JSON.parse(current.stateText), operations);
        // move and copy can nest the document deeper than any value sent: check the result too.
        assertSafeJson(next);
        const stateText = checkedState(next, 'patchDocument');
        return { op: 'PATCH', stateText, state: next as Record<string, unknown>, patchJson };
      });
    },

    async delete(scope, name, id, options = {}) {
      return write(scope, name, id, options.ifVersion, (current) => {
        if (current.stateText === null) throw notFound(name, id, current);
        return { op: 'DELETE', stateText: null, state: null };
      });
    },

    async watch(scope, name, id, options = {}) {
      assertCollectionName(name);
      assertDocumentId(id);
      const { sinceVersion } = options;
      if (sinceVersion != null && (!Number.isSafeInteger(sinceVersion) || sinceVersion < 0)) {
        throw badInput('sinceVersion must be a version you received (an integer ≥ 0)', { field: 'sinceVersion' });
      }
      const keys = documentKeys(keyPrefix, scope, name, id);
      const read = async (): Promise<DocumentSyncPoint> => {
        const results = await redis.multi().hmget(keys.doc, 'v', 's', 'u').lrange(keys.window, 0, -1).exec();
        const failed = results?.find(([error]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error('document read was aborted');
        const [version, stateText, updatedAt] = results[0]?.[1] as (string | null)[];
        let current: Current;
        let window = results[1]?.[1] as string[];
        if (version == null) {
          current = await readCurrent(scope, keys, name, id);
          window = [];
        } else {
          current = { version: Number(version), stateText: stateText ?? null, updatedAt: updatedAt ?? null };
        }
        const snapshot = snapshotOf(name, id, current);
        return { snapshot: { ...snapshot, op: 'SNAPSHOT', patch: null }, window };
      };
      return openDocumentStream({
        subscriber,
        channel: keys.channel,
        read,
        sinceVersion,
        ...(options.bufferSize !== undefined ? { bufferSize: options.bufferSize } : {}),
        onOverflow: options.onOverflow,
      });
    },
  };
}
