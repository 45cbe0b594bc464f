/**
 * WebSocket keep-alive on real sockets on 127.0.0.1: a client that answers pings stays connected, one that does
 * not is cut after missing one, and the pings are spread over the interval instead of sent in one burst.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startHeartbeat, type Heartbeat } from '../src/ws/heartbeat.js';

const INTERVAL_MS = 400;

describe('heartbeat', () => {
  it('should cut a socket that stops answering pings and keep the ones that answer', async () => {
    const { url } = await server();
    const answering = await connect(url, true);
    const silent = await connect(url, false);
    let pings = 0;
    answering.on('ping', () => (pings += 1));
    const [code] = (await once(silent, 'close')) as [number];
    expect(code).toBe(1006); // terminated, no close frame
    // By the time the silent one was cut (its second ping), the answering one was pinged too, and stays open.
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(answering.readyState).toBe(WebSocket.OPEN);
  });

  it('should spread the pings of sockets that connected together over the interval', async () => {
    const { url, accepted } = await server({ fakeTimers: true });
    await Promise.all(Array.from({ length: 40 }, () => connect(url, true)));
    const pinged: number[] = [];
    for (const socket of accepted) {
      const ping = socket.ping.bind(socket);
      socket.ping = (...args: Parameters<WebSocket['ping']>) => {
        pinged.push(Date.now());
        ping(...args);
      };
    }
    const tick = INTERVAL_MS / 100;
    vi.advanceTimersByTime(tick);
    expect(pinged).toHaveLength(1); // one slice of 100, not every socket at once
    vi.advanceTimersByTime(tick * 39);
    expect(pinged).toHaveLength(40);
    expect(new Set(pinged).size).toBe(40); // each at its own tick
    vi.advanceTimersByTime(tick * 60);
    expect(pinged).toHaveLength(40); // once per interval
  });
});

const servers: WebSocketServer[] = [];
const heartbeats: Heartbeat[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const heartbeat of heartbeats.splice(0)) heartbeat.stop();
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((wss) => new Promise((resolve) => wss.close(resolve))));
});

/** A ws server on 127.0.0.1 with a heartbeat (its interval timer faked when asked), and its accepted sockets. */
async function server(options: { fakeTimers?: boolean } = {}): Promise<{ url: string; accepted: WebSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  if (options.fakeTimers) vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  const heartbeat = startHeartbeat(INTERVAL_MS);
  heartbeats.push(heartbeat);
  const accepted: WebSocket[] = [];
  wss.on('connection', (socket) => {
    accepted.push(socket);
    heartbeat.add(socket);
  });
  await once(wss, 'listening');
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, accepted };
}

async function connect(url: string, autoPong: boolean): Promise<WebSocket> {
  const client = new WebSocket(url, { autoPong });
  clients.push(client);
  await once(client, 'open');
  return client;
}
