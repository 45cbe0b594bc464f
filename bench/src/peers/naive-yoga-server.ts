/**
 * Peer `naive-yoga`: what a team would hand-build with the usual parts. graphql-yoga with its graphql-ws
 * recipe (`useServer` executing through `yoga.getEnveloped`), `createPubSub` over
 * `@graphql-yoga/redis-event-target`, a `publishBenchTick` mutation and a `benchTick` subscription field.
 * Every event is executed as GraphQL once per subscriber, like ours.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { ExecutionArgs } from 'graphql';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { createStatsHandler, exitOnSignal, peerEnv } from './server-stats.js';

interface BenchTick {
  id: string;
  data: { seq: number; sentAt: number; pad: string };
}

const { port, redisUrl, prefix } = peerEnv();
const TOPIC = `${prefix}:yoga:tick`;
/** The pub/sub topic of a channel: "0" for the one-topic scenarios, "3" for a topic, "u17" / "g1" for a user or group. */
const topicOf = (key: string): string => (key === '0' ? TOPIC : `${TOPIC}:${key}`);
const publishClient = new Redis(redisUrl);
const subscribeClient = new Redis(redisUrl);
const pubSub = createPubSub<Record<string, [BenchTick]>>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      ok: Boolean!
    }
    input BenchTickInput {
      seq: Int!
      sentAt: Float!
      pad: String!
    }
    type BenchTickData {
      seq: Int!
      sentAt: Float!
      pad: String!
    }
    type BenchTick {
      id: ID!
      data: BenchTickData!
    }
    type Mutation {
      publishBenchTick(data: BenchTickInput!, topic: String = "0"): ID!
    }
    type Subscription {
      benchTick(topic: String = "0"): BenchTick!
    }
  `,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      publishBenchTick: (_root: unknown, args: { data: BenchTick['data']; topic: string }) => {
        const id = randomUUID();
        pubSub.publish(topicOf(args.topic), { id, data: args.data });
        return id;
      },
    },
    Subscription: {
      benchTick: {
        subscribe: (_root: unknown, args: { topic: string }) => pubSub.subscribe(topicOf(args.topic)),
        resolve: (payload: BenchTick) => payload,
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
  publishClient.disconnect();
  subscribeClient.disconnect();
});
