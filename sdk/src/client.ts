/**
 * The platform's client: subscriptions over graphql-ws that survive lost connections without losing events,
 * and HTTP publish. A subscription that declares `$after` (or `$sinceVersion` for documents) remembers the
 * position of the last result it handed over; when the connection drops for a reason another try can fix, it
 * reconnects with backoff and subscribes again from that position, so the server replays exactly what was
 * missed (docs/protocol.md, "Resume and history gaps").
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse, print, type DocumentNode, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { RealtimeClientError, fromGraphQLErrors } from './errors.js';
import { backoffDelay, isFatalClose, planResume, positionOf, type BackoffOptions } from './resume.js';

export interface RealtimeClientOptions {
  /** The platform's address: `http(s)://host:port` (or its `/graphql` endpoint, or the `ws(s)://` form of it). */
  url: string;
  /** A publishable key (`pk_…`) for subscribing, or a secret key (`sk_…`), which can also publish. */
  apiKey: string;
  /**
   * An end-user token (JWT), or a function that returns a current one. A function is asked at every connect,
   * and again before the token in use expires: the fresh one goes to the server in a ping, so the connection
   * (closed with 4403 at expiry otherwise) and its subscriptions go on.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** The WebSocket class where there is no global one (Node 20: `ws`'s default export). */
  webSocketImpl?: unknown;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Reconnect waits (see backoffDelay) and how many attempts in a row before giving up (default: no limit). */
  retry?: BackoffOptions & { maxAttempts?: number };
}

/** A resume that could not be exact (HISTORY_GAP): events before `oldestCursor` may be missing; delivery goes on. */
export interface HistoryGap {
  requestedCursor?: string;
  oldestCursor: string | null;
  reason?: 'TRIMMED' | 'LOST';
  message: string;
}

export interface SubscribeHandlers<TData> {
  next(data: TData): void;
  gap?(gap: HistoryGap): void;
  /** The subscription ended for good: refused, unauthorized, or out of retries. */
  error?(error: RealtimeClientError): void;
  /** The server ended the subscription. */
  complete?(): void;
  /** The connection was lost; the subscription resumes after `delayMs`. */
  reconnecting?(info: { attempt: number; delayMs: number; closeCode?: number }): void;
}

export interface SubscribeOptions {
  operationName?: string;
  /**
   * false: subscribe again after a lost connection without a position (what was published meanwhile is missed).
   * Otherwise the document must declare `$after` or `$sinceVersion`, or subscribe throws.
   */
  resume?: boolean;
}

export interface PublishInput {
  topic: string;
  data: unknown;
  subject?: string;
  idempotencyKey?: string;
  schemaVersion?: number;
  traceparent?: string;
}

/** The stored event, as the platform answers a publish. */
export interface PublishedEvent {
  id: string;
  topic: string;
  cursor: string;
  subject: string | null;
  time: string;
  data: unknown;
  [field: string]: unknown;
}

/** A member present on a topic: an end user's `sub`, with their token's `presence` claim. */
export interface PresenceMember {
  id: string;
  data: unknown;
}

export interface PresenceHandlers {
  /** Everyone present now (after the first snapshot, and after each change). Called again after a reconnect's snapshot. */
  change(members: ReadonlyMap<string, unknown>, event: { type: 'SNAPSHOT' | 'JOIN' | 'LEAVE'; members: readonly PresenceMember[] }): void;
  error?(error: RealtimeClientError): void;
}

/** An ephemeral message sent with `broadcast` (never stored: missed while not connected). */
export interface BroadcastMessage {
  topic: string;
  /** The sender's `sub`, or null without an end-user token. */
  from: string | null;
  data: unknown;
  time: string;
}

/** One message of a `document` subscription (docs/protocol.md, "Documents"). */
export interface DocumentChange {
  collection: string;
  id: string;
  version: number;
  op: 'SNAPSHOT' | 'SET' | 'PATCH' | 'DELETE';
  exists: boolean;
  patch: Operation[] | null;
  state: Record<string, unknown> | null;
}

/** A client's copy of a document: its state (null while it does not exist) at `version`. */
export interface DocumentCopy {
  state: Readonly<Record<string, unknown>> | null;
  version: number;
}

export interface DocumentHandlers {
  /** The copy after each change (a new object each time: keep it, compare it). */
  change(copy: DocumentCopy, change: DocumentChange): void;
  error?(error: RealtimeClientError): void;
}

/** Writes to one document over the socket; each resolves to the version it made (see `ifVersion`: CONFLICT). */
export interface DocumentWriter {
  set(state: Record<string, unknown>, ifVersion?: number): Promise<number>;
  patch(operations: Operation[], ifVersion?: number): Promise<number>;
  delete(ifVersion?: number): Promise<number>;
}

export interface RealtimeClient {
  subscribe<TData = Record<string, unknown>, TVariables extends Record<string, unknown> = Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
    variables: TVariables | undefined,
    handlers: SubscribeHandlers<TData>,
    options?: SubscribeOptions,
  ): () => void;
  /** Publishes one event over `POST /v1/publish` (needs a secret key); rejects with the server's error code. */
  publish(input: PublishInput): Promise<PublishedEvent>;
  /**
   * Who is on `topic`, kept as a map from the snapshot and the joins and leaves after it (rebuilt from the new
   * snapshot after a reconnect). With an end-user token this connection is present too, while it watches.
   */
  presence(topic: string, handlers: PresenceHandlers): () => void;
  /** The ephemeral messages sent to `topic` from now on (a topic with `clientMessages`). */
  broadcasts(topic: string, handlers: { next(message: BroadcastMessage): void; error?(error: RealtimeClientError): void }): () => void;
  /** Sends an ephemeral message to `topic`'s current `broadcasts` subscribers, over the socket; rejects with the server's code. */
  broadcast(topic: string, data: unknown): Promise<void>;
  /**
   * Keeps a copy of one document: the snapshot, then each patch applied in version order; after a lost
   * connection it resumes from the last version it has (patches, or a snapshot when the server has none).
   */
  document(collection: string, id: string, handlers: DocumentHandlers): () => void;
  /** Writes to one document (`setDocument`, `patchDocument`, `deleteDocument`). */
  documentWriter(collection: string, id: string): DocumentWriter;
  /** Ends every subscription and closes the connection. */
  dispose(): Promise<void>;
}

interface CloseLike {
  code: number;
  reason?: string;
}

const isCloseLike = (value: unknown): value is CloseLike =>
  typeof value === 'object' && value !== null && 'code' in value && typeof (value as { code: unknown }).code === 'number';

/** `http://h:p/x/graphql` → `{ http: 'http://h:p/x', ws: 'ws://h:p/x/graphql' }`. */
export function endpointsOf(url: string): { http: string; ws: string } {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/graphql$/, '');
  const base = `${parsed.host}${path}`;
  return { http: `${secure ? 'https' : 'http'}://${base}`, ws: `${secure ? 'wss' : 'ws'}://${base}/graphql` };
}

/** A JWT's `exp` (seconds), read without verifying it (the server verifies); undefined when it has none. */
export function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

/** When to send a fresh token: after 60 % of the time the current one has left (at least 1 s from now). */
export const refreshDelayMs = (expSeconds: number, now = Date.now()): number => Math.max(1_000, Math.floor((expSeconds * 1000 - now) * 0.6));

export function createRealtimeClient(options: RealtimeClientOptions): RealtimeClient {
  const endpoints = endpointsOf(options.url);
  const retry = options.retry ?? {};
  const maxAttempts = retry.maxAttempts ?? Number.POSITIVE_INFINITY;
  const { token } = options;
  /** The token sent at the last connect, and the refresh scheduled for the open connection. */
  let tokenInUse: string | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const ws: Client = createClient({
    url: endpoints.ws,
    connectionParams: async () => {
      tokenInUse = typeof token === 'function' ? await token() : token;
      return tokenInUse === undefined ? { apiKey: options.apiKey } : { apiKey: options.apiKey, token: tokenInUse };
    },
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    // Reconnecting is done here, per subscription, so that each comes back with its own position.
    retryAttempts: 0,
  });
  const active = new Set<() => void>();

  if (typeof token === 'function') {
    const schedule = (socket: { send(data: string): void; readyState: number }, current: string | undefined): void => {
      clearTimeout(refreshTimer);
      const exp = current === undefined ? undefined : expiryOf(current);
      if (exp === undefined) return;
      refreshTimer = setTimeout(() => {
        void (async () => {
          const fresh = await token();
          if (socket.readyState !== 1 || fresh === undefined) return; // closed meanwhile: the next connect asks again
          socket.send(JSON.stringify({ type: 'ping', payload: { token: fresh } }));
          schedule(socket, fresh);
        })().catch(() => undefined); // no fresh token: the server closes with 4403 at expiry, and a reconnect asks again
      }, refreshDelayMs(exp));
    };
    ws.on('connected', (socket) => schedule(socket as { send(data: string): void; readyState: number }, tokenInUse));
    ws.on('closed', () => clearTimeout(refreshTimer));
  }

  function subscribe<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
    variables: TVariables | undefined,
    handlers: SubscribeHandlers<TData>,
    subscribeOptions: SubscribeOptions = {},
  ): () => void {
    const parsed = typeof document === 'string' ? parse(document) : document;
    const query = typeof document === 'string' ? document : print(document);
    const plan = planResume(parsed, subscribeOptions.operationName);
    if (!plan && subscribeOptions.resume !== false) {
      throw new RealtimeClientError(
        'BAD_USER_INPUT',
        'declare $after: String (passed to the field’s after argument, with cursor selected) or, for a document, $sinceVersion: Int (with version selected), so a lost connection resumes without missing events; or pass { resume: false }',
      );
    }
    let position: unknown = plan ? variables?.[plan.variable] : undefined;
    let attempt = 0;
    let ended = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopCurrent: (() => void) | undefined;

    const end = (error?: RealtimeClientError): void => {
      if (ended) return;
      ended = true;
      active.delete(unsubscribe);
      if (error) handlers.error?.(error);
      else handlers.complete?.();
    };

    const start = (): void => {
      timer = undefined;
      /** Errors of a `next` that the server follows with `complete`: the field refused the subscription. */
      let refused: RealtimeClientError | undefined;
      const payload = {
        query,
        ...(subscribeOptions.operationName ? { operationName: subscribeOptions.operationName } : {}),
        // Read whenever the message is sent: graphql-ws itself subscribes again after a normal close (1000)
        // while subscriptions are open, and that one too must carry the latest position.
        get variables(): Record<string, unknown> | undefined {
          return plan && position !== undefined && position !== null ? { ...variables, [plan.variable]: position } : variables;
        },
      };
      stopCurrent = ws.subscribe<TData>(
        payload,
        {
          next: (result: ExecutionResult<TData>) => {
            if (ended) return;
            attempt = 0;
            const errors = result.errors as readonly GraphQLFormattedError[] | undefined;
            if (errors && errors.length > 0) {
              const gap = errors.find((e) => e.extensions?.code === 'HISTORY_GAP');
              if (gap) {
                const extensions = gap.extensions as Partial<HistoryGap>;
                handlers.gap?.({ ...extensions, oldestCursor: extensions.oldestCursor ?? null, message: gap.message });
              } else {
                refused = fromGraphQLErrors(errors);
              }
            }
            if (result.data) {
              if (plan) {
                const next = positionOf(plan, result.data);
                if (next !== undefined) position = next;
              }
              handlers.next(result.data);
            }
          },
          error: (error: unknown) => {
            if (ended) return;
            if (Array.isArray(error)) return end(fromGraphQLErrors(error as GraphQLFormattedError[]));
            const closeCode = isCloseLike(error) ? error.code : undefined;
            // An expired end-user token (4403) is worth one more connect when a fresh one can be asked for: a
            // revoked key then fails with 4401, which is final.
            const renewable = closeCode === 4403 && typeof token === 'function' && attempt === 0;
            if (closeCode !== undefined && isFatalClose(closeCode) && !renewable) {
              const reason = isCloseLike(error) && error.reason ? `: ${error.reason}` : '';
              return end(new RealtimeClientError('CONNECTION_CLOSED', `the server closed the connection with ${closeCode}${reason}`, { closeCode }));
            }
            // A lost connection (or one that could not be made): come back from the last position.
            if (attempt >= maxAttempts) {
              return end(new RealtimeClientError('CONNECTION_LOST', `the connection was lost and ${attempt} attempts to resume failed`, closeCode !== undefined ? { closeCode } : {}));
            }
            const delayMs = backoffDelay(attempt, retry);
            attempt += 1;
            handlers.reconnecting?.({ attempt, delayMs, ...(closeCode !== undefined ? { closeCode } : {}) });
            timer = setTimeout(start, delayMs);
          },
          complete: () => {
            if (timer === undefined) end(refused);
          },
        },
      );
    };

    const unsubscribe = (): void => {
      if (ended) return;
      ended = true;
      active.delete(unsubscribe);
      if (timer !== undefined) clearTimeout(timer);
      stopCurrent?.();
    };
    active.add(unsubscribe);
    start();
    return unsubscribe;
  }

  async function publish(input: PublishInput): Promise<PublishedEvent> {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    const response = await fetchImpl(`${endpoints.http}/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify(input),
    });
    const text = await response.text();
    let body: { event?: PublishedEvent; errors?: GraphQLFormattedError[] } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (response.ok && body?.event) return body.event;
    if (body?.errors && body.errors.length > 0) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw fromGraphQLErrors(body.errors, { status: response.status, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) });
    }
    throw new RealtimeClientError('INTERNAL_SERVER_ERROR', `publish answered HTTP ${response.status} without an error body`, { status: response.status });
  }

  function presence(topic: string, handlers: PresenceHandlers): () => void {
    let members = new Map<string, unknown>();
    type Presence = { presence: { type: 'SNAPSHOT' | 'JOIN' | 'LEAVE'; members: PresenceMember[] } };
    return subscribe<Presence, { topic: string }>(
      'subscription($topic: String!) { presence(topic: $topic) { type members { id data } } }',
      { topic },
      {
        next: ({ presence: event }) => {
          if (event.type === 'SNAPSHOT') members = new Map();
          for (const member of event.members) {
            if (event.type === 'LEAVE') members.delete(member.id);
            else members.set(member.id, member.data);
          }
          handlers.change(members, event);
        },
        ...(handlers.error ? { error: handlers.error } : {}),
      },
      { resume: false }, // nothing to replay: a reconnect starts with a fresh snapshot
    );
  }

  function broadcasts(topic: string, handlers: { next(message: BroadcastMessage): void; error?(error: RealtimeClientError): void }): () => void {
    return subscribe<{ broadcasts: BroadcastMessage }, { topic: string }>(
      'subscription($topic: String!) { broadcasts(topic: $topic) { topic from data time } }',
      { topic },
      { next: (data) => handlers.next(data.broadcasts), ...(handlers.error ? { error: handlers.error } : {}) },
      { resume: false }, // broadcasts are never stored
    );
  }

  /** Runs one query or mutation over the socket; resolves to its data, rejects with the server's code. */
  function execute<TData>(query: string, variables: Record<string, unknown>): Promise<TData> {
    return new Promise<TData>((resolve, reject) => {
      let settled = false;
      const settle = (result: { data?: TData; error?: RealtimeClientError }): void => {
        if (settled) return;
        settled = true;
        if (result.error) reject(result.error);
        else resolve(result.data as TData);
      };
      ws.subscribe<TData>(
        { query, variables },
        {
          next: (result) => {
            const errors = result.errors as readonly GraphQLFormattedError[] | undefined;
            settle(errors && errors.length > 0 ? { error: fromGraphQLErrors(errors) } : { data: result.data as TData });
          },
          error: (error: unknown) => {
            if (Array.isArray(error)) return settle({ error: fromGraphQLErrors(error as GraphQLFormattedError[]) });
            const closeCode = isCloseLike(error) ? error.code : undefined;
            settle({ error: new RealtimeClientError('CONNECTION_LOST', 'the connection closed before the server answered', closeCode !== undefined ? { closeCode } : {}) });
          },
          complete: () => settle({ error: new RealtimeClientError('INTERNAL_SERVER_ERROR', 'the server answered with nothing') }),
        },
      );
    });
  }

  async function broadcast(topic: string, data: unknown): Promise<void> {
    await execute('mutation($topic: String!, $data: JSON!) { broadcast(topic: $topic, data: $data) }', { topic, data });
  }

  function document(collection: string, id: string, handlers: DocumentHandlers): () => void {
    let copy: DocumentCopy = { state: null, version: 0 };
    return subscribe<{ document: DocumentChange }, { collection: string; id: string; sinceVersion?: number }>(
      'subscription($collection: String!, $id: ID!, $sinceVersion: Int) { document(collection: $collection, id: $id, sinceVersion: $sinceVersion) { collection id version op exists patch state } }',
      { collection, id },
      {
        next: ({ document: change }) => {
          if (change.op === 'PATCH' && change.patch) {
            // Not in place: the copy handed out before stays as it was.
            const state = jsonpatch.applyPatch(copy.state ?? {}, change.patch, false, false).newDocument;
            copy = { state, version: change.version };
          } else {
            copy = { state: change.exists ? change.state : null, version: change.version };
          }
          handlers.change(copy, change);
        },
        ...(handlers.error ? { error: handlers.error } : {}),
      },
    );
  }

  function documentWriter(collection: string, id: string): DocumentWriter {
    const args = (ifVersion: number | undefined): Record<string, unknown> => ({ collection, id, ...(ifVersion !== undefined ? { ifVersion } : {}) });
    return {
      set: async (state, ifVersion) =>
        (await execute<{ setDocument: { version: number } }>(
          'mutation($collection: String!, $id: ID!, $state: JSON!, $ifVersion: Int) { setDocument(collection: $collection, id: $id, state: $state, ifVersion: $ifVersion) { version } }',
          { ...args(ifVersion), state },
        )).setDocument.version,
      patch: async (operations, ifVersion) =>
        (await execute<{ patchDocument: { version: number } }>(
          'mutation($collection: String!, $id: ID!, $patch: [JSON!]!, $ifVersion: Int) { patchDocument(collection: $collection, id: $id, patch: $patch, ifVersion: $ifVersion) { version } }',
          { ...args(ifVersion), patch: operations },
        )).patchDocument.version,
      delete: async (ifVersion) =>
        (await execute<{ deleteDocument: { version: number } }>(
          'mutation($collection: String!, $id: ID!, $ifVersion: Int) { deleteDocument(collection: $collection, id: $id, ifVersion: $ifVersion) { version } }',
          args(ifVersion),
        )).deleteDocument.version,
    };
  }

  return {
    subscribe,
    publish,
    presence,
    broadcasts,
    broadcast,
    document,
    documentWriter,
    async dispose() {
      for (const stop of [...active]) stop();
      clearTimeout(refreshTimer);
      // A connection that never opened has nothing to close (graphql-ws rejects with its connect error).
      await Promise.resolve(ws.dispose()).catch(() => undefined);
    },
  };
}
