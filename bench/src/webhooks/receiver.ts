/**
 * The webhook receiver of the `webhooks` scenario, in a process of its own (forked, driven over IPC): an HTTP
 * server on 127.0.0.1 that answers as the variant says and records, per path, requests, distinct webhook-ids
 * (or bodies' `seq` for peers without one), and the first-attempt latency (arrival − the event's `sentAt`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import hdr from 'hdr-histogram-js';
import { serveRpc } from '../support/rpc.js';
import { nowMs } from '../load/wire.js';

/** ok: 204 at once; fail10: 500 on the first attempt of one id in ten; slow50: 204 after 50 ms. */
export type ReceiverVariant = 'ok' | 'fail10' | 'slow50';

export interface ReceiverStats {
  requests: number;
  distinct: number;
  failuresSent: number;
  firstAt: number | null;
  /** When the last not-yet-seen id arrived. */
  lastNewAt: number | null;
  /** When the `markAfter`-th distinct id arrived (see reset), and how many requests had arrived by then. */
  markAt: number | null;
  requestsAtMark: number;
  latency: { count: number; p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number };
}

const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
let seen = new Set<string>();
let failed = new Set<string>();
let stats = { requests: 0, failuresSent: 0, firstAt: null as number | null, lastNewAt: null as number | null, markAt: null as number | null, requestsAtMark: 0 };
/** Distinct ids that warm the sender up before the measured ones (0: the measurement starts at the first request). */
let markAfter = 0;

const failsFirst = (id: string): boolean => (createHash('sha1').update(id).digest()[0] as number) % 10 === 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const now = nowMs();
    const variant = (req.url ?? '/ok').slice(1).split('?')[0] as ReceiverVariant;
    const body = Buffer.concat(chunks).toString('utf8');
    let id = req.headers['webhook-id'] as string | undefined;
    let sentAt: number | undefined;
    try {
      const parsed = JSON.parse(body) as { data?: { seq?: number; sentAt?: number }; seq?: number; sentAt?: number };
      sentAt = parsed.data?.sentAt ?? parsed.sentAt;
      id ??= String(parsed.data?.seq ?? parsed.seq);
    } catch {
      id ??= body;
    }
    stats.requests += 1;
    stats.firstAt ??= now;
    if (variant === 'fail10' && !failed.has(id) && failsFirst(id)) {
      failed.add(id);
      stats.failuresSent += 1;
      res.writeHead(500).end('failing on purpose');
      return;
    }
    const answer = (): void => void res.writeHead(204).end();
    if (!seen.has(id)) {
      seen.add(id);
      stats.lastNewAt = now;
      if (seen.size === markAfter) {
        stats.markAt = now;
        stats.requestsAtMark = stats.requests;
      }
      if (sentAt !== undefined && !failed.has(id)) histogram.recordValue(Math.max(1, Math.round((now - sentAt) * 1000)));
    }
    if (variant === 'slow50') setTimeout(answer, 50);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;

serveRpc({
  async listen() {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  },
  /** Forgets everything; with `warmUp`, the measurement starts when that many distinct ids have arrived. */
  reset(warmUp?: number) {
    seen = new Set();
    failed = new Set();
    markAfter = warmUp ?? 0;
    stats = { requests: 0, failuresSent: 0, firstAt: null, lastNewAt: null, markAt: null, requestsAtMark: 0 };
    histogram.reset();
    return true;
  },
  stats(): ReceiverStats {
    const ms = (micros: number): number => Math.round(micros) / 1000;
    return {
      ...stats,
      distinct: seen.size,
      latency: {
        count: histogram.totalCount,
        p50Ms: ms(histogram.getValueAtPercentile(50)),
        p99Ms: ms(histogram.getValueAtPercentile(99)),
        p999Ms: ms(histogram.getValueAtPercentile(99.9)),
        maxMs: ms(histogram.maxValue),
      },
    };
  },
});
