/**
 * Peer `socketio`: Socket.IO with the Redis adapter, as its docs recommend for more than one node. Clients
 * emit `join` with a room name; a publish (HTTP POST of the event data) is `io.to(room).emit('tick', event)`,
 * which Socket.IO encodes once for the room and also relays through Redis to other nodes.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createStatsHandler, exitOnSignal, peerEnv, readBody } from './server-stats.js';

const ROOM = 'bench';
const { port, redisUrl, prefix } = peerEnv();
const pubClient = new Redis(redisUrl);
const subClient = new Redis(redisUrl);
const stats = createStatsHandler();

const server = createServer((req, res) => {
  if (stats(req, res)) return;
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'POST' || url.pathname !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  readBody(req)
    .then((body) => {
      const id = randomUUID();
      // `?topic=k` (a topic, a user or a group): room `bench-k`; topic 0 is the room of the one-topic scenarios.
      const topic = url.searchParams.get('topic') ?? '0';
      io.to(topic === '0' ? ROOM : `${ROOM}-${topic}`).emit('tick', { id, data: JSON.parse(body) as unknown });
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
    })
    .catch((error: unknown) => res.writeHead(400).end(String(error)));
});

const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  adapter: createAdapter(pubClient, subClient, { key: `${prefix}-sio` }),
});
io.on('connection', (socket) => {
  socket.on('join', (room: unknown) => {
    if (typeof room === 'string') void socket.join(room);
  });
});

server.listen(port, '127.0.0.1');

exitOnSignal(async () => {
  await io.close();
  pubClient.disconnect();
  subClient.disconnect();
});
