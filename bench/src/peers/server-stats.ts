/**
 * `/stats` for the peer servers the bench writes itself (ours has `/metrics`): event-loop delay since the
 * last reset and memory now. `POST /stats/reset` starts a new window.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ServerStats {
  rssBytes: number;
  heapUsedBytes: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

/** Returns a request handler that answers `/stats` and `/stats/reset` and returns false for anything else. */
export function createStatsHandler(): (req: IncomingMessage, res: ServerResponse) => boolean {
  // The same resolution as prom-client's default, which is what ours reports.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return (req, res) => {
    if (req.url === '/stats/reset' && req.method === 'POST') {
      delay.reset();
      res.writeHead(204).end();
      return true;
    }
    if (req.url === '/stats') {
      const memory = process.memoryUsage();
      const stats: ServerStats = {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
        eventLoopDelayMaxMs: delay.max / 1e6,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return true;
    }
    return false;
  };
}

/** Reads a request body as text (publish bodies are small). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** Peer servers read their settings from the environment the scenario gives them. */
export function peerEnv(): { port: number; redisUrl: string; prefix: string } {
  const port = Number(process.env.PORT);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = process.env.BENCH_PREFIX ?? '';
  if (!Number.isInteger(port) || port <= 0 || prefix === '') throw new Error('PORT and BENCH_PREFIX are required');
  return { port, redisUrl, prefix };
}

/** Stops on SIGTERM/SIGINT: `close` gets 5 s, then the process exits anyway. */
export function exitOnSignal(close: () => Promise<void>): void {
  const stop = (): void => {
    setTimeout(() => process.exit(0), 5_000).unref();
    close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
