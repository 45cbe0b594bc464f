/**
 * Peer `ws-ceiling`: the least a server can do for fan-out over Redis. A publish (HTTP POST of the event data)
 * goes to a Redis channel; each message from the channel is turned into one Buffer and that same Buffer is
 * sent as a text frame to every socket. No per-subscriber work besides the write itself.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { createStatsHandler, exitOnSignal, peerEnv, readBody } from './server-stats.js';

const { port, redisUrl, prefix } = peerEnv();
/** One Redis channel per topic (`?topic=k` on the socket and the publish; 0 when absent). */
const channelOf = (topic: number): string => `${prefix}:ws:tick:${topic}`;
const TOPICS = 10;
const publisher = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const sockets = new Set<WebSocket>();
const byTopic = new Map<number, Set<WebSocket>>();
const stats = createStatsHandler();

const server = createServer((req, res) => {
  if (stats(req, res)) return;
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'POST' || url.pathname !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  readBody(req)
    .then(async (body) => {
      JSON.parse(body); // refuse what is not JSON, as any real endpoint would
      const id = randomUUID();
      await publisher.publish(channelOf(Number(url.searchParams.get('topic') ?? 0)), `{"id":"${id}","data":${body}}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
    })
    .catch((error: unknown) => res.writeHead(400).end(String(error)));
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket, request) => {
  const topic = Number(new URL(request.url ?? '/', 'http://localhost').searchParams.get('topic') ?? 0);
  let members = byTopic.get(topic);
  if (!members) byTopic.set(topic, (members = new Set()));
  const set = members;
  sockets.add(socket);
  set.add(socket);
  const leave = (): void => {
    sockets.delete(socket);
    set.delete(socket);
  };
  socket.on('close', leave);
  socket.on('error', leave);
});

const topicOfChannel = new Map(Array.from({ length: TOPICS }, (_, k) => [channelOf(k), k]));
subscriber.on('message', (channel: string, message: string) => {
  const frame = Buffer.from(message);
  for (const socket of byTopic.get(topicOfChannel.get(channel) ?? -1) ?? []) socket.send(frame, { binary: false });
});

await subscriber.subscribe(...topicOfChannel.keys());
server.listen(port, '127.0.0.1');

exitOnSignal(async () => {
  for (const socket of sockets) socket.terminate();
  wss.close();
  server.close();
  publisher.disconnect();
  subscriber.disconnect();
});
