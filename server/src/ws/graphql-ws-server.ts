import type { IncomingMessage } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { CLOSE_CODES, RealtimeError, type Platform, type Principal } from '@realtime/core';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { classify, classifyResult } from '../plugins/use-error-codes.js';
import type { TenantResolver } from '../plugins/use-tenant.js';
import { resolvePrincipal } from '../principal.js';

type ConnectionExtra = {
  principal?: Principal;
};

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

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
  const { maxSubscriptionsPerConnection, connectionInitTimeoutMs, maxSocketBufferBytes } = platform.config;

  /**
   * A client that does not read: graphql-ws waits for each send, so its subscriptions' bounded buffers fill
   * and overflow (or, should a send not wait, the socket's own buffer passes its limit). Close the
   * connection with 4008 so the client reconnects and resumes with its cursors; memory stays bounded. The
   * close frame may never be read either, so the socket is cut soon after.
   */
  const closeSlowConsumer = (socket: WebSocket): void => {
    if (socket.readyState !== socket.OPEN) return;
    logger.warn('closing slow consumer', { bufferedBytes: socket.bufferedAmount });
    socket.close(CLOSE_CODES.SLOW_CONSUMER, 'Slow consumer: resume with your last cursor');
    setTimeout(() => socket.terminate(), 1_000).unref();
  };
  const socketsByKey = new Map<string, Set<WebSocket>>();

  const stopWatching = platform.onControl((message) => {
    if (message.type !== 'key-revoked') return;
    for (const socket of socketsByKey.get(message.keyId) ?? []) {
      socket.close(CLOSE_CODES.FORBIDDEN, 'Forbidden: the API key was revoked');
    }
  });

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      connectionInitWaitTimeout: connectionInitTimeoutMs,
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const apiKey = typeof params.apiKey === 'string' ? params.apiKey : undefined;
        const request = ctx.extra.request as IncomingMessage;
        const principal = await resolvePrincipal(platform, { apiKey, cookieHeader: request.headers.cookie });
        if (principal.kind === 'anonymous') {
          ctx.extra.socket.close(
            CLOSE_CODES.UNAUTHORIZED,
            apiKey ? 'Unauthorized: the API key is unknown or revoked' : 'Unauthorized: send connectionParams.apiKey',
          );
          return false;
        }
        ctx.extra.principal = principal;
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
      onClose: (ctx) => {
        const principal = ctx.extra.principal;
        if (principal?.kind !== 'key') return;
        const sockets = socketsByKey.get(principal.keyId);
        sockets?.delete(ctx.extra.socket);
        if (sockets?.size === 0) socketsByKey.delete(principal.keyId);
      },
      onSubscribe: async (ctx, _id, payload) => {
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
          request: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          tenant,
          onSlowConsumer: () => closeSlowConsumer(ctx.extra.socket),
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
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Enveloped,
        };
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > maxSocketBufferBytes) closeSlowConsumer(socket);
        return classifyResult(result);
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => classify(e)),
    },
    wss,
  );

  wss.on('error', (error) => logger.error('websocket server error', { error: error.message }));

  return {
    async dispose() {
      stopWatching();
      // graphql-ws closes every socket with 1001 (Going Away) and then the ws server.
      await server.dispose();
    },
  };
}
