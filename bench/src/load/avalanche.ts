/**
 * The reconnect-avalanche load generator, forked by the `idle` scenario (ours only: the peers have no resume).
 * It opens many graphql-ws clients on `benchTick(after:)`, each remembering the cursor of the last event it got;
 * then drops them all at once and brings them all back at once, each resuming with its cursor. A client has
 * resumed when it holds every event published while it was away, exactly once and in order.
 */
import WebSocket from 'ws';
import { serveRpc } from '../support/rpc.js';

const QUERY = 'subscription($after: String) { benchTick(after: $after) { cursor data { seq } } }';

interface Client {
  socket?: WebSocket;
  cursor: string | null;
  /** Seqs received since the last resume began. */
  seqs: number[];
  resumedAt?: number;
  retries: number;
}

const clients: Client[] = [];
let url = '';
let apiKey = '';
let expected: number[] = [];
let resumeStarted = 0;
let errors = 0;
const errorSamples: string[] = [];

function noteError(text: string): void {
  errors += 1;
  if (errorSamples.length < 5) errorSamples.push(text.slice(0, 300));
}

function holdsExpected(client: Client): boolean {
  if (client.seqs.length < expected.length) return false;
  return expected.every((seq, i) => client.seqs[i] === seq);
}

/** Opens (or reopens) one client; resolves once its subscription is sent, rejects if the socket fails first. */
function connect(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    client.socket = socket;
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey } })));
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: { data?: { benchTick?: { cursor: string; data: { seq: number } } }; errors?: unknown } };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { after: client.cursor } } }));
        settle();
      } else if (message.type === 'next') {
        const tick = message.payload?.data?.benchTick;
        if (!tick) {
          noteError(JSON.stringify(message.payload));
          return;
        }
        client.cursor = tick.cursor;
        client.seqs.push(tick.data.seq);
        if (client.resumedAt === undefined && resumeStarted > 0 && holdsExpected(client)) client.resumedAt = performance.now();
      } else if (message.type === 'ping') {
        socket.send('{"type":"pong"}');
      } else if (message.type !== 'pong') {
        noteError(data.toString());
      }
    });
    socket.on('error', (error) => settle(error));
    socket.on('close', (code) => settle(new Error(`closed with ${code} before the ack`)));
  });
}

/** Connects every client, at most `concurrency` handshakes in flight, retrying a failed one after a jittered pause. */
async function connectAll(list: Client[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const client = list[next++] as Client;
      for (let attempt = 0; ; attempt += 1) {
        try {
          await connect(client);
          break;
        } catch (error) {
          client.retries += 1;
          if (attempt >= 20) {
            noteError(`gave up: ${(error as Error).message}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

const methods = {
  async open(params: { url: string; apiKey: string; count: number }): Promise<{ open: number; ms: number }> {
    url = params.url;
    apiKey = params.apiKey;
    const started = performance.now();
    const fresh = Array.from({ length: params.count }, (): Client => ({ cursor: null, seqs: [], retries: 0 }));
    clients.push(...fresh);
    await connectAll(fresh, 200);
    return { open: clients.filter((c) => c.socket?.readyState === WebSocket.OPEN).length, ms: Math.round(performance.now() - started) };
  },
  /** How many clients hold a cursor (have received at least one event). */
  withCursor(): number {
    return clients.filter((c) => c.cursor !== null).length;
  },
  /** Drops every client at once (as a network blip or a server restart would). */
  async drop(): Promise<number> {
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            const socket = c.socket;
            if (!socket || socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            socket.terminate();
          }),
      ),
    );
    return clients.length;
  },
  /**
   * Brings every client back at once with its cursor and waits until each holds `seqs` (published while it was
   * away), at most `timeoutMs`.
   */
  async resume(params: { seqs: number[]; timeoutMs: number; concurrency: number }) {
    expected = params.seqs;
    for (const c of clients) {
      c.seqs = [];
      delete c.resumedAt;
      c.retries = 0;
    }
    resumeStarted = performance.now();
    const connecting = connectAll(clients, params.concurrency);
    const deadline = resumeStarted + params.timeoutMs;
    while (performance.now() < deadline && clients.some((c) => c.resumedAt === undefined)) await new Promise((r) => setTimeout(r, 50));
    await Promise.race([connecting, new Promise((r) => setTimeout(r, 1_000))]);
    const times = clients.flatMap((c) => (c.resumedAt === undefined ? [] : [c.resumedAt - resumeStarted])).sort((a, b) => a - b);
    const wrong = clients.filter((c) => c.resumedAt === undefined && c.seqs.length > 0);
    return {
      clients: clients.length,
      resumed: times.length,
      resumedWithin10s: times.filter((t) => t <= 10_000).length,
      allResumedMs: times.length === clients.length ? Math.round(times[times.length - 1] ?? 0) : null,
      p50Ms: Math.round(percentile(times, 50)),
      p99Ms: Math.round(percentile(times, 99)),
      /** Clients that got events but not exactly the missed ones in order (a gap, duplicate or reordering). */
      inexact: wrong.length,
      inexactSample: wrong.slice(0, 3).map((c) => c.seqs.slice(0, 10)),
      retries: clients.reduce((n, c) => n + c.retries, 0),
      errors,
      errorSamples,
    };
  },
  async close(): Promise<void> {
    await methods.drop();
  },
};

export type AvalancheMethods = typeof methods;

serveRpc(methods);
