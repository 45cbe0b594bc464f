import type { IncomingMessage } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, type WebSocketServer } from 'ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { CLOSE_CODES, RealtimeError, readEnvironmentAuth, verifyEndUserToken, type Platform, type Principal } from '@realtime/core';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { classify, classifyResult } from '../plugins/use-error-codes.js';
import type { TenantResolver } from '../plugins/use-tenant.js';
import { resolvePrincipal } from '../principal.js';
import { createSharedExecutor, type DirectDelivery } from './shared-execution.js';
import { createFrameSplicer } from './shared-frames.js';
import { startHeartbeat } from './heartbeat.js';

type ConnectionExtra = {
  principal?: Principal;
  /** Broadcast allowance: a token bucket of BROADCASTS_PER_SECOND, refilled continuously. */
  broadcast?: { tokens: number; at: number };
  /** Closes the socket with 4403 when the end user's token expires, unless a fresh token arrives first. */
  expiry?: NodeJS.Timeout;
};

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  /** Where this subscription's results may be written directly (see shared-execution.ts). */
  direct: DirectDelivery;
}

/** Client broadcasts one connection may send per second (bursts up to the same number). */
const BROADCASTS_PER_SECOND = 20;

export interface GraphQLWsOptions {
  platform: Platform;
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  tenants: TenantResolver;
  wss: WebSocketServer;
  logger: Logger;
  metrics: Metrics;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's `/graphql`, executing through Yoga's
 * `getEnveloped`, so parsing, validation (depth limit), error masking and context are the HTTP ones.
 * `connectionParams.apiKey` scopes the connection to one application environment for its lifetime;
 * a revoked key closes its sockets with 4403.
 */
export function attachGraphQLWs(options: GraphQLWsOptions): { dispose(): Promise<void> } {
  const { platform, yoga, tenants, wss, logger, metrics } = options;
  const { maxSubscriptionsPerConnection, connectionInitTimeoutMs, maxSocketBufferBytes, wsKeepAliveMs } = platform.config;
  const sharedSubscribe = createSharedExecutor(logger);
  /** A direct frame could not be written: one socket's failure must not stop the others of the fan-out. */
  const directFailed = (socket: WebSocket, error: unknown): void => {
    logger.error('direct delivery failed', { error: (error as Error).message });
    socket.close(CLOSE_CODES.INTERNAL_ERROR, 'Internal error');
  };
  // Frames of one tick leave together, but never enough of them to come near the slow-consumer limit.
  const frames = createFrameSplicer({ onWriteError: directFailed, coalesceBytes: Math.min(64 * 1024, Math.floor(maxSocketBufferBytes / 4)) });
  // Events that reach this process together are written to each socket at once (see FrameSplicer.beginBatch).
  const stopBatching = platform.subscriber.onBatch({ begin: frames.beginBatch, end: frames.endBatch });

  /**
   * A client that does not read: graphql-ws waits for each send, so its subscriptions' bounded buffers fill
   * and overflow (or, should a send not wait, the socket's own buffer passes its limit). Close the
   * connection with 4008 so the client reconnects and resumes with its cursors; memory stays bounded. The
   * close frame may never be read either, so the socket is cut soon after.
   */
  const scheduleExpiry = (extra: ConnectionExtra & { socket: WebSocket }): void => {
    clearTimeout(extra.expiry);
    const principal = extra.principal;
    const expiresAt = principal?.kind === 'key' ? principal.endUser?.expiresAt : null;
    if (expiresAt == null) return;
    const delay = Math.max(0, expiresAt * 1000 - Date.now());
    extra.expiry = setTimeout(() => extra.socket.close(CLOSE_CODES.FORBIDDEN, 'Forbidden: the token expired'), delay);
    extra.expiry.unref();
  };

  const takeBroadcastToken = (extra: ConnectionExtra): boolean => {
    const now = Date.now();
    const bucket = (extra.broadcast ??= { tokens: BROADCASTS_PER_SECOND, at: now });
    bucket.tokens = Math.min(BROADCASTS_PER_SECOND, bucket.tokens + ((now - bucket.at) / 1000) * BROADCASTS_PER_SECOND);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  const closeSlowConsumer = (socket: WebSocket): void => {
    if (socket.readyState !== socket.OPEN) return;
    logger.warn('closing slow consumer', { bufferedBytes: socket.bufferedAmount });
    socket.close(CLOSE_CODES.SLOW_CONSUMER, 'Slow consumer: resume with your last cursor');
    setTimeout(() => socket.terminate(), 1_000).unref();
  };
  /** True (and the socket is being closed) when more than the limit is queued for it. */
  const overflowing = (socket: WebSocket): boolean => {
    if (socket.bufferedAmount <= maxSocketBufferBytes) return false;
    closeSlowConsumer(socket);
    return true;
  };
  const socketsByKey = new Map<string, Set<WebSocket>>();

  const stopWatching = platform.onControl((message) => {
    if (message.type !== 'key-revoked') return;
    for (const socket of socketsByKey.get(message.keyId) ?? []) {
      socket.close(CLOSE_CODES.FORBIDDEN, 'Forbidden: the API key was revoked');
    }
  });

  // Keep-alive pings, spread over the interval (heartbeat.ts) instead of graphql-ws's timers per socket.
  const heartbeat = startHeartbeat(wsKeepAliveMs);
  wss.on('connection', (socket) => heartbeat.add(socket));

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      connectionInitWaitTimeout: connectionInitTimeoutMs,
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      // Subscriptions execute once per (event, schema, operation) and share the result; see shared-execution.ts.
      subscribe: (args) => sharedSubscribe({ ...args, rootValue: undefined }, (args.rootValue as Enveloped).direct) as never,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const apiKey = typeof params.apiKey === 'string' ? params.apiKey : undefined;
        const token = typeof params.token === 'string' ? params.token : undefined;
        const request = ctx.extra.request as IncomingMessage;
        let principal: Principal;
        try {
          principal = await resolvePrincipal(platform, { apiKey, cookieHeader: request.headers.cookie, token });
        } catch (error) {
          if (!(error instanceof RealtimeError)) throw error;
          ctx.extra.socket.close(CLOSE_CODES.UNAUTHORIZED, `Unauthorized: ${error.message}`.slice(0, 120));
          return false;
        }
        if (principal.kind === 'anonymous') {
          ctx.extra.socket.close(
            CLOSE_CODES.UNAUTHORIZED,
            apiKey ? 'Unauthorized: the API key is unknown or revoked' : 'Unauthorized: send connectionParams.apiKey',
          );
          return false;
        }
        ctx.extra.principal = principal;
        frames.attach(ctx.extra.socket);
        scheduleExpiry(ctx.extra);
        if (principal.kind === 'key') {
          let sockets = socketsByKey.get(principal.keyId);
          if (!sockets) socketsByKey.set(principal.keyId, (sockets = new Set()));
          sockets.add(ctx.extra.socket);
        }
        metrics.wsConnections.inc();
        return true;
      },
      onDisconnect: () => {
        metrics.wsConnections.dec();
      },
      onPing: async (ctx, payload) => {
        // Token refresh: `{ type: 'ping', payload: { token } }` replaces the end user's token before it expires.
        const principal = ctx.extra.principal;
        const token = payload?.token;
        if (typeof token !== 'string' || principal?.kind !== 'key') return;
        try {
          const auth = await readEnvironmentAuth(platform.pool, platform.secrets, principal);
          ctx.extra.principal = { ...principal, endUser: await verifyEndUserToken(token, auth) };
          scheduleExpiry(ctx.extra);
        } catch (error) {
          ctx.extra.socket.close(CLOSE_CODES.FORBIDDEN, `Forbidden: ${(error as Error).message}`.slice(0, 120));
        }
      },
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiry);
        const principal = ctx.extra.principal;
        if (principal?.kind !== 'key') return;
        const sockets = socketsByKey.get(principal.keyId);
        sockets?.delete(ctx.extra.socket);
        if (sockets?.size === 0) socketsByKey.delete(principal.keyId);
      },
      onSubscribe: async (ctx, id, payload) => {
        // graphql-ws registers the operation being subscribed before calling us, so it counts itself.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
          return [
            new RealtimeError(
              'TOO_MANY_SUBSCRIPTIONS',
              `this connection already holds ${maxSubscriptionsPerConnection} subscriptions; complete one first`,
            ),
          ];
        }
        const principal = ctx.extra.principal as Principal;
        const tenant = { principal, schema: await tenants.schemaFor(principal) };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          tenant,
          onSlowConsumer: () => closeSlowConsumer(ctx.extra.socket),
          takeBroadcastToken: () => takeBroadcastToken(ctx.extra),
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [classify(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')];
        }
        let errors: readonly GraphQLError[];
        try {
          errors = validate(schema, document);
        } catch (error) {
          // Some rules (the depth limit) throw instead of reporting; over HTTP Yoga turns that into a result too.
          errors = [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        if (errors.length > 0) return errors.map((e) => classify(e, 'GRAPHQL_VALIDATION_FAILED'));
        const socket = ctx.extra.socket;
        const head = frames.head(id);
        /**
         * Live results of this subscription, written from the Redis message that carried the event: the same
         * frame graphql-ws would send, with the same slow-consumer check as onNext, but without a promise per
         * subscriber (graphql-ws awaits each send's callback). A subscription completed by the client is detached
         * before graphql-ws forgets its id, so no frame follows its completion.
         */
        const direct: DirectDelivery = (result) => {
          if (socket.readyState !== WebSocket.OPEN || overflowing(socket)) return;
          try {
            frames.sendNext(socket, head, result);
          } catch (error) {
            directFailed(socket, error); // called from the loop that serves every subscriber of the event
          }
        };
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe, direct } satisfies Enveloped,
        };
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        overflowing(ctx.extra.socket);
        // Serialized once per shared result; the socket's send splices the JSON in (shared-frames.ts).
        return frames.placeholder(classifyResult(result)) as never;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => classify(e)),
    },
    wss,
    0, // graphql-ws's own keep-alive off: see heartbeat above
  );

  wss.on('error', (error) => logger.error('websocket server error', { error: error.message }));

  return {
    async dispose() {
      stopWatching();
      stopBatching();
      heartbeat.stop();
      // graphql-ws closes every socket with 1001 (Going Away) and then the ws server.
      await server.dispose();
    },
  };
}
