/**
 * Peer `ws-ceiling`: the least a server can do for fan-out over Redis. A publish (HTTP POST of the event data)
 * goes to a Redis channel; each message from the channel is turned into one Buffer and that same Buffer is
 * sent as a text frame to every socket. No per-subscriber work besides the write itself.
 *
 * A socket joins the channels named by its `?topic=` parameters ("0" when absent): a topic of the `topics`
 * scenario, or a user's and a group's channel in `groups`. One pattern subscription covers them all.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { createStatsHandler, exitOnSignal, peerEnv, readBody } from './server-stats.js';

const { port, redisUrl, prefix } = peerEnv();
/** One Redis channel per topic (`?topic=k` on the socket and the publish; "0" when absent). */
const CHANNEL_PREFIX = `${prefix}:ws:tick:`;
const publisher = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const sockets = new Set<WebSocket>();
const byTopic = new Map<string, Set<WebSocket>>();
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
      await publisher.publish(`${CHANNEL_PREFIX}${url.searchParams.get('topic') ?? '0'}`, `{"id":"${id}","data":${body}}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
    })
    .catch((error: unknown) => res.writeHead(400).end(String(error)));
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket, request) => {
  const requested = new URL(request.url ?? '/', 'http://localhost').searchParams.getAll('topic');
  const topics = requested.length > 0 ? requested : ['0'];
  sockets.add(socket);
  for (const topic of topics) {
    let members = byTopic.get(topic);
    if (!members) byTopic.set(topic, (members = new Set()));
    members.add(socket);
  }
  const leave = (): void => {
    sockets.delete(socket);
    for (const topic of topics) byTopic.get(topic)?.delete(socket);
  };
  socket.on('close', leave);
  socket.on('error', leave);
});

subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
  const members = byTopic.get(channel.slice(CHANNEL_PREFIX.length));
  if (!members) return;
  const frame = Buffer.from(message);
  for (const socket of members) socket.send(frame, { binary: false });
});

await subscriber.psubscribe(`${CHANNEL_PREFIX}*`);
server.listen(port, '127.0.0.1');

exitOnSignal(async () => {
  for (const socket of sockets) socket.terminate();
  wss.close();
  server.close();
  publisher.disconnect();
  subscriber.disconnect();
});
