/**
 * The four servers a fan-out run compares, started the same way: a separate Node process on 127.0.0.1, its
 * own Redis prefix (and, for ours, its own database), stopped and cleaned up by `stop()`.
 */
import { gql, platformEnv, signInAdmin } from '../support/platform-api.js';
import { fileURLToPath } from 'node:url';
import { onCleanup, sleep, startProcess, WATCHDOG, type Started } from '../support/children.js';
import { REDIS_URL, deleteRedisPrefix, dropDatabase, freePort, uniqueName } from '../support/services.js';
import type { PublishSpec, WireSpec } from '../load/wire.js';
import type { ServerStats } from './server-stats.js';

export const PEER_NAMES = ['ws-ceiling', 'socketio', 'naive-yoga', 'ours', 'ours-2x'] as const;
export type PeerName = (typeof PEER_NAMES)[number];
/** The peers a fan-out run compares by default (`ours-2x` belongs to the `two-instances` scenario). */
export const FANOUT_PEERS: readonly PeerName[] = ['ws-ceiling', 'socketio', 'naive-yoga', 'ours'];

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What each peer is, in one line, for the summary. */
export const PEER_DESCRIPTIONS: Record<PeerName, string> = {
  'ws-ceiling': 'plain `ws`: POST → Redis PUBLISH → one pre-serialized frame written to every socket (the ceiling)',
  socketio: 'Socket.IO 4 + `@socket.io/redis-adapter`, clients join a room, POST → `io.to(room).emit` (encoded once per room)',
  'naive-yoga': 'graphql-yoga + graphql-ws `useServer` (getEnveloped recipe) + `createPubSub` over `@graphql-yoga/redis-event-target`; GraphQL executed per subscriber per event',
  ours: 'the platform (`node server/dist/main.js start`): `POST /v1/publish` with a secret key (schema check, Redis Stream + PUBLISH: the publisher of the `publish` mutation, without GraphQL), typed `benchTick` subscription with a publishable key',
  'ours-2x': 'the platform as two instances on one database and Redis: publishes go to instance A, every subscriber is on instance B (fan-out crosses Redis Pub/Sub between processes)',
};

/** Topics every peer serves for the `topics` scenario (ours registers `bench.tick` and `bench.tick_1` … `_9`). */
export const BENCH_TOPICS = 10;

/** A personal stream (one per client) or a group stream (one per group of clients) of the `groups` scenario. */
export interface GroupChannel {
  kind: 'personal' | 'group';
  id: number;
}

/** The peers' name for a personal or group channel: their room, channel or subscription argument. */
const channelKey = (channel: GroupChannel): string => `${channel.kind === 'personal' ? 'u' : 'g'}${channel.id}`;

/** The subscription every GraphQL peer serves, field for field. */
export const SUBSCRIPTION_QUERY = 'subscription { benchTick { id data { seq sentAt pad } } }';

export interface RunningPeer {
  name: PeerName;
  /** The server process that serves the subscribers (the one measured). */
  pid: number;
  /**
   * The peer's other server processes: `ours-2x`'s publishing instance. They are pinned to the load core (the
   * measured server keeps its core to itself, as it would on a machine of its own) and count as the peer's, not as
   * other people's CPU.
   */
  otherPids?: number[];
  wire: WireSpec;
  publish: PublishSpec;
  /**
   * Topic `k` of the `topics` scenario (0 ≤ k < BENCH_TOPICS): how to subscribe to it and publish on it.
   * Topic 0 is `wire` / `publish`.
   */
  topic(k: number): { wire: WireSpec; publish: PublishSpec };
  /** A personal or group channel of the `groups` scenario: how to subscribe to it and publish on it. */
  groupChannel(channel: GroupChannel): { wire: WireSpec; publish: PublishSpec };
  /** Starts a new window for the server's own event-loop delay figures. */
  resetStats(): Promise<void>;
  /** Heap and event-loop delay as the server reports them (RSS is read from /proc by the caller). */
  stats(): Promise<Partial<ServerStats>>;
  alive(): boolean;
  /** The server's last output (stderr and stdout), for a crash report. */
  output(): string;
  /** Stops the server and removes its database and Redis keys. */
  stop(): Promise<number | null>;
  /** Ours only: the provisioned application (its DEV keys are in `wire` and `publish`). */
  applicationId?: string;
  /** Ours only: its GraphQL endpoint and the headers that carry the application's secret key. */
  graphql?: { url: string; headers: Record<string, string> };
}

export interface StartOptions {
  /** Write a V8 CPU profile of the server into this directory (written when it exits). */
  cpuProfileDir?: string | undefined;
  /** Ours only: the directory holding the built platform (`server/dist/main.js`). @default the repo root */
  platformRoot?: string | undefined;
}

async function waitForHttp(url: string, process: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.child.exitCode !== null || process.child.signalCode !== null) {
      throw new Error(`server exited (${process.child.exitCode ?? process.child.signalCode}) before answering ${url}:\n${process.output().slice(-4000)}`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not answer ${url} within ${timeoutMs} ms:\n${process.output().slice(-4000)}`);
    await sleep(100);
  }
}

const nodeArgs = (options: StartOptions): string[] => [
  '--import',
  WATCHDOG,
  ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : []),
];

function cleanupOnce(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => (done ??= fn());
  onCleanup(once);
  return once;
}

/** ws-ceiling, socketio and naive-yoga: our own small servers in bench/dist/peers. */
async function startOwnPeer(name: Exclude<PeerName, 'ours'>, options: StartOptions): Promise<RunningPeer> {
  const port = await freePort();
  const prefix = uniqueName('bench');
  const cleanup = cleanupOnce(async () => void (await deleteRedisPrefix(prefix)));
  const script = fileURLToPath(new URL(`./${name}-server.js`, import.meta.url));
  const server = startProcess(process.execPath, [...nodeArgs(options), script], {
    env: { ...process.env, PORT: String(port), REDIS_URL, BENCH_PREFIX: prefix },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/stats`, server, 30_000);
  const wire: WireSpec =
    name === 'ws-ceiling'
      ? { kind: 'plain', url: `ws://127.0.0.1:${port}/ws` }
      : name === 'socketio'
        ? { kind: 'socketio', url: `ws://127.0.0.1:${port}`, room: 'bench' }
        : { kind: 'graphql-ws', url: `ws://127.0.0.1:${port}/graphql`, query: SUBSCRIPTION_QUERY, connectionParams: {} };
  const publish: PublishSpec =
    name === 'naive-yoga'
      ? { kind: 'graphql', url: `${base}/graphql`, query: 'mutation($data: BenchTickInput!) { publishBenchTick(data: $data) }', headers: {} }
      : { kind: 'rest', url: `${base}/publish` };
  /** Channel `key` ("0" is the one-topic scenarios' channel): a room, a Redis channel or a subscription argument. */
  const channel = (key: string): { wire: WireSpec; publish: PublishSpec } => {
    if (name === 'naive-yoga') {
      return {
        wire: { kind: 'graphql-ws', url: `ws://127.0.0.1:${port}/graphql`, query: `subscription { benchTick(topic: "${key}") { id data { seq sentAt pad } } }`, connectionParams: {} },
        publish: { kind: 'graphql', url: `${base}/graphql`, query: `mutation($data: BenchTickInput!) { publishBenchTick(data: $data, topic: "${key}") }`, headers: {} },
      };
    }
    return {
      wire: name === 'ws-ceiling' ? { kind: 'plain', url: `ws://127.0.0.1:${port}/ws?topic=${key}` } : { kind: 'socketio', url: `ws://127.0.0.1:${port}`, room: `bench-${key}` },
      publish: { kind: 'rest', url: `${base}/publish?topic=${key}` },
    };
  };
  const topic = (k: number): { wire: WireSpec; publish: PublishSpec } => (k === 0 ? { wire, publish } : channel(String(k)));
  return {
    name,
    pid: server.pid,
    wire,
    publish,
    topic,
    groupChannel: (c) => channel(channelKey(c)),
    resetStats: async () => void (await fetch(`${base}/stats/reset`, { method: 'POST', signal: AbortSignal.timeout(5_000) })),
    stats: async () => (await (await fetch(`${base}/stats`, { signal: AbortSignal.timeout(5_000) })).json()) as ServerStats,
    alive: () => server.child.exitCode === null && server.child.signalCode === null,
    output: server.output,
    async stop() {
      const code = await server.stop();
      await cleanup();
      return code;
    },
  };
}


/** The JSON Schema of `bench.tick`: what the publisher sends, nothing more. */
const TICK_SCHEMA = {
  type: 'object',
  properties: { seq: { type: 'integer' }, sentAt: { type: 'number' }, pad: { type: 'string' } },
  required: ['seq', 'sentAt', 'pad'],
  additionalProperties: false,
};


/**
 * Ours in the `groups` scenario: topics are types, not per-user channels, so a user's stream is `bench.personal`
 * and a group's `bench.group`, each subscriber filtering on the event's subject (the user or the group).
 */
const GROUP_TOPICS = { personal: { topic: 'bench.personal', field: 'benchPersonal' }, group: { topic: 'bench.group', field: 'benchGroup' } } as const;

/** Ours: topic k of the bench (`bench.tick`, `bench.tick_1` … ), and its Subscription field (`benchTick1`). */
const oursTopic = (k: number): string => (k === 0 ? 'bench.tick' : `bench.tick_${k}`);
const oursField = (k: number): string => (k === 0 ? 'benchTick' : `benchTick${k}`);

/** Signs in, creates one application, a secret and a publishable DEV key, and registers `bench.tick`. */
async function provision(base: string): Promise<{ sk: string; pk: string; applicationId: string }> {
  const cookie = await signInAdmin(base);
  const auth = { cookie };
  const app = await gql<{ createApplication: { id: string } }>(base, 'mutation { createApplication(input: { name: "Bench" }) { id } }', {}, auth);
  const applicationId = app.data.createApplication.id;
  const key = async (kind: string): Promise<string> =>
    (
      await gql<{ createApiKey: { secret: string } }>(
        base,
        'mutation($app: ID!, $kind: ApiKeyKind!) { createApiKey(input: { applicationId: $app, environment: DEV, kind: $kind, name: "bench" }) { secret } }',
        { app: applicationId, kind },
        auth,
      )
    ).data.createApiKey.secret;
  const sk = await key('SECRET');
  const pk = await key('PUBLISHABLE');
  const names = [...Array.from({ length: BENCH_TOPICS }, (_, k) => oursTopic(k)), ...Object.values(GROUP_TOPICS).map((t) => t.topic)];
  for (const name of names) {
    await gql(
      base,
      'mutation($app: ID!, $name: String!, $schema: JSON!) { registerTopic(input: { applicationId: $app, environment: DEV, name: $name, schema: $schema }) { fieldName } }',
      { app: applicationId, name, schema: TICK_SCHEMA },
      auth,
    );
  }
  return { sk, pk, applicationId };
}

/** Parses the Prometheus text format into name → value (labels ignored; the first sample wins). */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] && !values.has(match[1])) values.set(match[1], Number(match[3]));
  }
  return values;
}

/**
 * Ours: the built platform, started like production (`node server/dist/main.js start`), on a fresh database.
 * With `instances: 2` a second process shares the database and Redis prefix: publishes go to the first,
 * subscribers to the second, whose pid is the one measured (it does the fan-out).
 */
async function startOurs(options: StartOptions, instances: 1 | 2 = 1): Promise<RunningPeer> {
  const prefix = uniqueName('bench');
  const database = uniqueName('rt_bench');
  const cleanup = cleanupOnce(async () => {
    await deleteRedisPrefix(prefix);
    await dropDatabase(database);
  });
  const launch = async (): Promise<{ server: Started; port: number }> => {
    const port = await freePort();
    const server = startProcess(process.execPath, [...nodeArgs(options), 'server/dist/main.js', 'start'], {
      cwd: options.platformRoot ?? REPO_ROOT,
      // Readiness probes of the `groups` scenario publish 2,000 events a second, past the default 1,000 per key.
      env: platformEnv({ port, database, prefix, extra: { REALTIME_PUBLISH_RATE_PER_KEY: '100000' } }),
    });
    started.push(server);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, server, 90_000);
    return { server, port };
  };
  const started: Started[] = [];
  try {
    const first = await launch();
    const second = instances === 2 ? await launch() : first;
    const base = `http://127.0.0.1:${first.port}`;
    const fanoutBase = `http://127.0.0.1:${second.port}`;
    const server = second.server;
    const { sk, pk, applicationId } = await provision(base);
    /** Ours' HTTP publish endpoint: the same publisher (key, schema, history, PUBLISH) as the `publish` mutation. */
    const publishApi = (topic: string, subject?: string): PublishSpec => ({
      kind: 'publish-api',
      url: `${base}/v1/publish`,
      headers: { authorization: `Bearer ${sk}` },
      fields: subject === undefined ? { topic } : { topic, subject },
    });
    const metric = async (): Promise<Map<string, number>> => parseMetrics(await (await fetch(`${fanoutBase}/metrics`, { signal: AbortSignal.timeout(5_000) })).text());
    return {
      name: instances === 2 ? 'ours-2x' : 'ours',
      applicationId,
      graphql: { url: `${base}/graphql`, headers: { authorization: `Bearer ${sk}` } },
      pid: server.pid,
      ...(instances === 2 ? { otherPids: [first.server.pid] } : {}),
      wire: { kind: 'graphql-ws', url: `ws://127.0.0.1:${second.port}/graphql`, query: SUBSCRIPTION_QUERY, connectionParams: { apiKey: pk } },
      publish: publishApi(oursTopic(0)),
      topic: (k) => ({
        wire: { kind: 'graphql-ws', url: `ws://127.0.0.1:${second.port}/graphql`, query: `subscription { ${oursField(k)} { id data { seq sentAt pad } } }`, connectionParams: { apiKey: pk } },
        publish: publishApi(oursTopic(k)),
      }),
      groupChannel: (c) => {
        const { topic, field } = GROUP_TOPICS[c.kind];
        const subject = channelKey(c);
        return {
          wire: {
            kind: 'graphql-ws',
            url: `ws://127.0.0.1:${second.port}/graphql`,
            query: `subscription($after: String) { ${field}(where: { subject: { eq: "${subject}" } }, after: $after) { id cursor data { seq sentAt pad } } }`,
            connectionParams: { apiKey: pk },
            resume: true,
          },
          publish: publishApi(topic, subject),
        };
      },
      // prom-client resets its event-loop histogram on every scrape, so a scrape starts a window.
      resetStats: async () => void (await metric()),
      async stats() {
        const values = await metric();
        return {
          heapUsedBytes: values.get('realtime_nodejs_heap_size_used_bytes') ?? Number.NaN,
          eventLoopDelayP99Ms: (values.get('realtime_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
          eventLoopDelayMaxMs: (values.get('realtime_nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
        };
      },
      alive: () => started.every((s) => s.child.exitCode === null && s.child.signalCode === null),
      output: () => started.map((s) => s.output()).join('\n'),
      async stop() {
        let code: number | null = 0;
        for (const s of started) code = (await s.stop(15_000)) ?? code;
        await cleanup();
        return code;
      },
    };
  } catch (error) {
    for (const s of started) await s.stop();
    await cleanup();
    throw error;
  }
}

export function startPeer(name: PeerName, options: StartOptions = {}): Promise<RunningPeer> {
  if (name === 'ours') return startOurs(options);
  if (name === 'ours-2x') return startOurs(options, 2);
  return startOwnPeer(name, options);
}
