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
const channel = `${prefix}:ws:tick`;
const publisher = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const sockets = new Set<WebSocket>();
const stats = createStatsHandler();

const server = createServer((req, res) => {
  if (stats(req, res)) return;
  if (req.method !== 'POST' || req.url !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  readBody(req)
    .then(async (body) => {
      JSON.parse(body); // refuse what is not JSON, as any real endpoint would
      const id = randomUUID();
      await publisher.publish(channel, `{"id":"${id}","data":${body}}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"${id}"}`);
    })
    .catch((error: unknown) => res.writeHead(400).end(String(error)));
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => sockets.delete(socket));
});

subscriber.on('message', (_channel: string, message: string) => {
  const frame = Buffer.from(message);
  for (const socket of sockets) socket.send(frame, { binary: false });
});

await subscriber.subscribe(channel);
server.listen(port, '127.0.0.1');

exitOnSignal(async () => {
  for (const socket of sockets) socket.terminate();
  wss.close();
  server.close();
  publisher.disconnect();
  subscriber.disconnect();
});
