import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GraphQLError, ValidationContext } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { WebSocketServer } from 'ws';
import { ENVIRONMENTS, createPlatform, findApplication, type Config, type EnvironmentName, type Platform } from '@realtime/core';
import { baseSchema, printApplicationSchema, type GraphQLContext } from '@realtime/schema';
import { BodyTooLargeError, readBody } from './http/body.js';
import { PUBLISH_PATH, createPublishHandler } from './http/publish.js';
import { sessionCookie } from './http/cookies.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { useCredentialLifetime } from './plugins/use-credential-lifetime.js';
import { maskError, useErrorCodes } from './plugins/use-error-codes.js';
import { operationCache, useTokenLimit } from './plugins/use-operation-limits.js';
import { createTenantResolver, type Tenant } from './plugins/use-tenant.js';
import { bearerToken, resolvePrincipal } from './principal.js';
import { attachGraphQLWs } from './ws/graphql-ws-server.js';

export interface App {
  /** Listens on `config.port` (0 picks a free port); resolves with the base URL. */
  start(): Promise<string>;
  /**
   * Graceful stop: no new connections, in-flight requests finish (up to `config.shutdownGraceMs`),
   * WebSockets close with 1001, then Redis and PostgreSQL connections close.
   */
  stop(): Promise<void>;
  readonly platform: Platform;
  /** The base URL once started. */
  url(): string;
}

export interface BuildAppOptions {
  config: Config;
  /** Where logs go. @default a JSON-lines logger at `config.logLevel` */
  logger?: Logger;
}

interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Set-Cookie values the resolvers asked for. */
  cookies: string[];
  secure: boolean;
}

/** graphql-armor's rejection handler: report the error through the validation context. */
const reportRejection = (context: ValidationContext | null, error: GraphQLError): void => context?.reportError(error);

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

/** Builds the API role: connects to PostgreSQL and Redis (failing fast), then returns `{ start, stop }`. */
export async function buildApp(options: BuildAppOptions): Promise<App> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics(() => platform, { eventLoopResolutionMs: config.eventLoopResolutionMs });
  const platform = await createPlatform({
    config,
    onPublishOutcome: (outcome) => metrics.publishes.inc({ outcome }),
    onGeneratedPassword: (email, password) => {
      // Printed once, on the start that created the owner; only its scrypt hash is stored.
      process.stdout.write(
        `\nCreated the first owner account.\n  email:    ${email}\n  password: ${password}\n  (shown once; set REALTIME_ADMIN_PASSWORD to choose it)\n\n`,
      );
    },
  });
  const tenants = createTenantResolver(platform);

  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema: baseSchema(),
    parserAndValidationCache: operationCache(config.operationCacheSize, () => metrics.operationsParsed.inc()),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // handleGraphQL reads the body under REALTIME_MAX_REQUEST_BYTES before Yoga sees it; Yoga's own limit would
    // re-wrap every request's body in another stream and Request (a measurable share of each publish).
    maxRequestBodySize: false,
    logging: {
      debug: (...args) => logger.debug(String(args[0])),
      info: (...args) => logger.info(String(args[0])),
      warn: (...args) => logger.warn(String(args[0])),
      error: (...args) => logger.error(String(args[0]), { detail: args.slice(1).map(String) }),
    },
    maskedErrors: { maskError: (error, message) => maskError(error, message, logger) },
    plugins: [
      tenants.plugin,
      useTokenLimit(config.maxQueryTokens),
      // Limits report as validation errors (not thrown), so every transport answers them the same way.
      maxDepthPlugin({ n: config.maxQueryDepth, exposeLimits: true, propagateOnRejection: false, onReject: [reportRejection] }),
      costLimitPlugin({ maxCost: config.maxQueryCost, exposeLimits: true, propagateOnRejection: false, onReject: [reportRejection] }),
      useErrorCodes(),
      // Event streams over HTTP end when their key is revoked or their end-user token expires.
      useCredentialLifetime({ platform, tenants }),
      // GraphQL over SSE (graphql-sse protocol) on /graphql/stream: same schema, auth and limits.
      useGraphQLSSE({ endpoint: '/graphql/stream' }),
    ],
    context: (initial) => {
      const fromWs = (initial as { tenant?: Tenant }).tenant;
      const tenant = fromWs ?? tenants.forRequest(initial.request);
      const context: GraphQLContext = { platform, principal: tenant?.principal ?? { kind: 'anonymous' } };
      const { onSlowConsumer, takeBroadcastToken } = initial as { onSlowConsumer?: () => void; takeBroadcastToken?: () => boolean };
      if (onSlowConsumer) context.onSlowConsumer = onSlowConsumer;
      if (takeBroadcastToken) context.takeBroadcastToken = takeBroadcastToken;
      if (!fromWs && initial.cookies) {
        const { cookies, secure } = initial;
        context.sessionCookie = {
          set: (id, maxAge) => cookies.push(sessionCookie(id, maxAge, secure)),
          clear: () => cookies.push(sessionCookie('', 0, secure)),
        };
      }
      return context;
    },
  });

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        body = await readBody(req, config.maxRequestBytes);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        json(res, 413, {
          errors: [
            {
              message: `request body is larger than ${config.maxRequestBytes} bytes (REALTIME_MAX_REQUEST_BYTES)`,
              extensions: { code: 'PAYLOAD_TOO_LARGE' },
            },
          ],
        });
        req.resume();
        return;
      }
    }
    const secure = req.headers['x-forwarded-proto'] === 'https' || (req.socket as { encrypted?: boolean }).encrypted === true;
    // Yoga's own fetch API (the whatwg-node ponyfill): a native Request costs several times more to build, and its
    // body is then read back through web streams.
    const { Request, Headers } = yoga.fetchAPI;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const abort = new AbortController();
    // Only a client that left before the response ended aborts; aborting after every request costs a DOMException each.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body !== undefined ? { body: body.toString('utf8') } : {}),
      signal: abort.signal,
    });
    const context: ServerContext = { req, res, cookies: [], secure };
    const response = await yoga.fetch(request, context);
    const outgoing: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') outgoing[name] = value;
    });
    const setCookies = [...response.headers.getSetCookie(), ...context.cookies];
    if (setCookies.length > 0) outgoing['set-cookie'] = setCookies;
    res.writeHead(response.status, outgoing);
    if (!response.body) {
      res.end();
      return;
    }
    // Streams (SSE) are written chunk by chunk as they come.
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || res.destroyed) break;
        res.write(value);
      }
    } finally {
      reader.releaseLock();
      res.end();
    }
  }

  const handlePublish = createPublishHandler({ platform, maxRequestBytes: config.maxRequestBytes, logger });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const health = await platform.health();
      const ready = health.postgres && health.redis && !stopping;
      return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...health, stopping });
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (path === '/graphql' || path === '/graphql/stream') return handleGraphQL(req, res);
    if (path === PUBLISH_PATH) return handlePublish(req, res);
    if (path === '/schema.graphql' && req.method === 'GET') return exportSchema(req, res);
    json(res, 404, { error: 'not found', graphql: '/graphql', publish: PUBLISH_PATH, health: ['/healthz', '/readyz', '/metrics'] });
  }

  /**
   * `GET /schema.graphql`: the SDL of the caller key's application environment, for client codegen.
   * Console users name the environment: `?applicationId=…&environment=DEV`.
   */
  async function exportSchema(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const principal = await resolvePrincipal(platform, {
      apiKey: bearerToken(req.headers.authorization),
      cookieHeader: req.headers.cookie,
    });
    const fail = (code: 'UNAUTHENTICATED' | 'BAD_USER_INPUT' | 'NOT_FOUND', status: number, message: string): void =>
      json(res, status, { errors: [{ message, extensions: { code } }] });
    let scope: { applicationId: string; environment: EnvironmentName };
    if (principal.kind === 'key') {
      scope = { applicationId: principal.applicationId, environment: principal.environment };
    } else if (principal.kind === 'user') {
      const applicationId = query.get('applicationId') ?? '';
      const environment = query.get('environment') ?? '';
      if (!ENVIRONMENTS.includes(environment as EnvironmentName)) {
        return fail('BAD_USER_INPUT', 400, `environment must be one of ${ENVIRONMENTS.join(', ')}`);
      }
      if (!(await findApplication(platform.pool, applicationId))) return fail('NOT_FOUND', 404, `application "${applicationId}" does not exist`);
      scope = { applicationId, environment: environment as EnvironmentName };
    } else {
      return fail('UNAUTHENTICATED', 401, 'send Authorization: Bearer pk_… or sk_… (or sign in and pass ?applicationId=&environment=)');
    }
    const topics = await platform.registry.get(scope);
    res.writeHead(200, { 'content-type': 'application/graphql; charset=utf-8' });
    res.end(printApplicationSchema(topics.topics));
  }

  let stopping = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    // While draining, answer in-flight requests and then close their connections instead of keeping them alive.
    if (stopping) res.shouldKeepAlive = false;
    res.on('finish', () => {
      if (stopping) server.closeIdleConnections();
    });
    handle(req, res).catch((error: unknown) => {
      logger.error('request failed', { error: error instanceof Error ? error.stack : String(error) });
      if (!res.headersSent) json(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.maxWsMessageBytes });
  const ws = attachGraphQLWs({ platform, yoga: yoga as never, tenants, wss, logger, metrics });

  let baseUrl = '';
  return {
    platform,
    url: () => baseUrl,
    start() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          baseUrl = `http://127.0.0.1:${port}`;
          logger.info('listening', { url: `http://localhost:${port}/graphql`, port });
          resolve(baseUrl);
        });
      });
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ws.dispose();
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
      await Promise.race([closed, grace]);
      for (const socket of sockets) socket.destroy();
      await closed;
      await platform.close();
      logger.info('stopped');
    },
  };
}
