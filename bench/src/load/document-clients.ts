/**
 * The document subscribers of the `sync` scenario, forked by it (pinned to the load core): many graphql-ws
 * connections, each subscribed to one document, each keeping its own copy from the SNAPSHOT and the patches it
 * receives, as a real client would. Per change it records the latency from the writer's `sentAt` (carried in
 * the patch) to the moment the copy here is updated, and per version the convergence latency: until the LAST
 * subscriber has it.
 */
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { serveRpc } from '../support/rpc.js';
import { nowMs } from './wire.js';

interface Change {
  version: number;
  op: 'SNAPSHOT' | 'SET' | 'PATCH' | 'DELETE';
  patch: { op: string; path: string; value?: unknown }[] | null;
  state: Record<string, unknown> | null;
}

interface Copy {
  version: number;
  state: Record<string, unknown> | null;
}

const QUERY = 'subscription($c: String!, $id: ID!) { document(collection: $c, id: $id) { version op patch state } }';

const clients: Client[] = [];
const copies: Copy[] = [];
const violations: string[] = [];
let fromVersion = Number.POSITIVE_INFINITY;
let delivered = 0;
const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
const convergence = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
/** version → subscribers that have it so far. */
const reached = new Map<number, number>();

/** The bench's patches only replace top-level members; anything else is reported as a violation. */
function applyPatch(state: Record<string, unknown>, patch: NonNullable<Change['patch']>): Record<string, unknown> {
  const next = { ...state };
  for (const op of patch) {
    if (op.op !== 'replace' || !/^\/[a-zA-Z]+$/.test(op.path)) throw new Error(`unexpected operation ${JSON.stringify(op)}`);
    next[op.path.slice(1)] = op.value;
  }
  return next;
}

function onChange(copy: Copy, change: Change): void {
  if (change.op === 'PATCH') {
    if (change.version !== copy.version + 1 || !copy.state) {
      if (violations.length < 20) violations.push(`patch ${change.version} at version ${copy.version}`);
      return;
    }
    copy.state = applyPatch(copy.state, change.patch ?? []);
  } else {
    copy.state = change.state;
  }
  copy.version = change.version;
  if (change.version < fromVersion || change.op !== 'PATCH') return;
  const now = nowMs();
  const sentAt = Number(copy.state?.sentAt);
  delivered += 1;
  latency.recordValue(Math.max(0, Math.round((now - sentAt) * 1000)));
  const count = (reached.get(change.version) ?? 0) + 1;
  reached.set(change.version, count);
  if (count === copies.length) {
    reached.delete(change.version);
    convergence.recordValue(Math.max(0, Math.round((now - sentAt) * 1000)));
  }
}

const summary = (h: typeof latency) => ({
  count: h.totalCount,
  p50Ms: h.getValueAtPercentile(50) / 1000,
  p99Ms: h.getValueAtPercentile(99) / 1000,
  p999Ms: h.getValueAtPercentile(99.9) / 1000,
  maxMs: h.maxValue / 1000,
});

const methods = {
  /** Opens `count` subscribers; resolves when each has its first message (the SNAPSHOT). */
  async open(params: { url: string; connectionParams: Record<string, unknown>; count: number; collection: string; id: string }) {
    const started = performance.now();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < params.count; i++) {
      const copy: Copy = { version: -1, state: null };
      copies.push(copy);
      const client = createClient({ url: params.url, webSocketImpl: WebSocket, connectionParams: params.connectionParams, lazy: false, retryAttempts: 0 });
      clients.push(client);
      ready.push(
        new Promise((resolve, reject) => {
          client.subscribe<{ document: Change }>(
            { query: QUERY, variables: { c: params.collection, id: params.id } },
            {
              next: (result) => {
                if (result.errors) reject(new Error(JSON.stringify(result.errors)));
                else if (result.data) {
                  onChange(copy, result.data.document);
                  resolve();
                }
              },
              error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
              complete: () => undefined,
            },
          );
        }),
      );
    }
    await Promise.all(ready);
    return { open: clients.length, ms: Math.round(performance.now() - started) };
  },

  /** Starts a measuring window: changes to versions ≥ `from` are recorded. */
  window(params: { from: number }) {
    fromVersion = params.from;
    delivered = 0;
    latency.reset();
    convergence.reset();
    reached.clear();
    return true;
  },

  /** Waits until every subscriber's copy is at `version` (or `timeoutMs` passed) and reports the window. */
  async settle(params: { version: number; timeoutMs: number }) {
    const deadline = performance.now() + params.timeoutMs;
    while (copies.some((c) => c.version < params.version) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const texts = new Set(copies.map((c) => JSON.stringify(c.state)));
    return {
      atVersion: copies.filter((c) => c.version === params.version).length,
      subscribers: copies.length,
      delivered,
      identical: texts.size === 1,
      state: copies[0]?.state ?? null,
      latency: summary(latency),
      convergence: summary(convergence),
      violations: [...violations],
    };
  },

  async close() {
    await Promise.all(clients.map((c) => c.dispose()));
    return true;
  },
};

export type DocumentClientMethods = typeof methods;

serveRpc(methods);
