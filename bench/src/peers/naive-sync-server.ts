/**
 * Peer `naive-sync` for the sync scenario: a shared document as a team would hand-build it with the usual
 * parts. graphql-yoga with its graphql-ws recipe, `createPubSub` over `@graphql-yoga/redis-event-target`;
 * the state is one JSON string in Redis with a version counter, a `patchDocument` mutation reads it, applies
 * the patch in Node and writes both back in one MULTI (writes are queued in the process so none is lost), and
 * publishes `{ version, patch }`; the `document` subscription sends the state first, then every published
 * patch, executed as GraphQL once per subscriber. What it leaves out, next to ours: no durable copy (a Redis
 * flush loses the document), no ifVersion, no catch-up after a reconnect, no gap or duplicate handling at
 * the seam, no authorization. Patches are applied with a minimal RFC 6902 subset (add/replace/remove of
 * top-level members), enough for the bench's patches.
 */
import { createServer } from 'node:http';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { ExecutionArgs } from 'graphql';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { createStatsHandler, exitOnSignal, peerEnv } from './server-stats.js';

interface Change {
  version: number;
  op: 'SNAPSHOT' | 'PATCH' | 'SET';
  patch: { op: string; path: string; value?: unknown }[] | null;
  state: Record<string, unknown> | null;
}

const { port, redisUrl, prefix } = peerEnv();
const commands = new Redis(redisUrl);
const publishClient = new Redis(redisUrl);
const subscribeClient = new Redis(redisUrl);
const pubSub = createPubSub<Record<string, [Change]>>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
const stateKey = (id: string): string => `${prefix}:naive-sync:${id}:state`;
const versionKey = (id: string): string => `${prefix}:naive-sync:${id}:version`;
const channel = (id: string): string => `${prefix}:naive-sync:${id}`;

function applyPatch(state: Record<string, unknown>, patch: NonNullable<Change['patch']>): Record<string, unknown> {
  const next = { ...state };
  for (const op of patch) {
    const key = op.path.slice(1);
    if (!/^\/[^/]+$/.test(op.path)) throw new Error(`only top-level paths are supported, not ${op.path}`);
    if (op.op === 'remove') delete next[key];
    else if (op.op === 'add' || op.op === 'replace') next[key] = op.value;
    else throw new Error(`unsupported op ${op.op}`);
  }
  return next;
}

/** One write at a time per process: without it concurrent read-modify-writes lose updates. */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

async function read(id: string): Promise<{ version: number; state: Record<string, unknown> | null }> {
  const [state, version] = await commands.mget(stateKey(id), versionKey(id));
  return { version: Number(version ?? 0), state: state ? (JSON.parse(state) as Record<string, unknown>) : null };
}

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    scalar JSON
    type Document {
      version: Int!
      state: JSON
    }
    type DocumentChange {
      version: Int!
      op: String!
      patch: [JSON!]
      state: JSON
    }
    type Query {
      document(collection: String!, id: ID!): Document
    }
    type Mutation {
      setDocument(collection: String!, id: ID!, state: JSON!): Document!
      patchDocument(collection: String!, id: ID!, patch: [JSON!]!): Document!
    }
    type Subscription {
      document(collection: String!, id: ID!): DocumentChange!
    }
  `,
  resolvers: {
    Query: { document: (_root: unknown, args: { id: string }) => read(args.id) },
    Mutation: {
      setDocument: (_root: unknown, args: { id: string; state: Record<string, unknown> }) =>
        serialized(async () => {
          const { version } = await read(args.id);
          await commands.multi().set(stateKey(args.id), JSON.stringify(args.state)).set(versionKey(args.id), version + 1).exec();
          await pubSub.publish(channel(args.id), { version: version + 1, op: 'SET', patch: null, state: args.state });
          return { version: version + 1, state: args.state };
        }),
      patchDocument: (_root: unknown, args: { id: string; patch: NonNullable<Change['patch']> }) =>
        serialized(async () => {
          const { version, state } = await read(args.id);
          if (!state) throw new Error('no such document');
          const next = applyPatch(state, args.patch);
          await commands.multi().set(stateKey(args.id), JSON.stringify(next)).set(versionKey(args.id), version + 1).exec();
          await pubSub.publish(channel(args.id), { version: version + 1, op: 'PATCH', patch: args.patch, state: null });
          return { version: version + 1, state: next };
        }),
    },
    Subscription: {
      document: {
        async *subscribe(_root: unknown, args: { id: string }) {
          const live = pubSub.subscribe(channel(args.id));
          const { version, state } = await read(args.id);
          yield { version, op: 'SNAPSHOT', patch: null, state } satisfies Change;
          yield* live;
        },
        resolve: (change: Change) => change,
      },
    },
  },
});

const yoga = createYoga({ schema, graphiql: false, logging: false });
const stats = createStatsHandler();
const server = createServer((req, res) => {
  if (!stats(req, res)) void yoga(req, res);
});
const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

// The recipe from the graphql-yoga docs ("Subscriptions → graphql-ws").
const graphqlWs = useServer(
  {
    execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
    subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
    onSubscribe: async (ctx, _id, params) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
      });
      const args = {
        schema,
        operationName: params.operationName ?? null,
        document: parse(params.query),
        variableValues: params.variables ?? null,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe } satisfies Enveloped,
      };
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      return args;
    },
  },
  wss,
);

server.listen(port, '127.0.0.1');

exitOnSignal(async () => {
  await graphqlWs.dispose();
  server.close();
  commands.disconnect();
  publishClient.disconnect();
  subscribeClient.disconnect();
});
