/**
 * The writer of the `sync` scenario, forked by it: sends `patchDocument` mutations at a fixed rate (open loop,
 * up to 128 in flight over keep-alive HTTP, no ifVersion: the server orders them), each replacing `seq`,
 * `sentAt` (stamped just before sending) and a `pad` (200 bytes unless the step asks for more).
 */
import http from 'node:http';
import { serveRpc } from '../support/rpc.js';
import { nowMs } from './wire.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 128, timeout: 60_000 });
const MUTATION = 'mutation($c: String!, $id: ID!, $patch: [JSON!]!) { patchDocument(collection: $c, id: $id, patch: $patch) { version } }';
/** The pad's length unless a step asks for another. */
const DEFAULT_PAD_BYTES = 200;

interface Answer {
  ok: boolean;
  ms: number;
  version?: number;
  error?: string;
}

function post(url: string, headers: Record<string, string>, collection: string, id: string, seq: number, pad: string): Promise<Answer> {
  const patch = [
    { op: 'replace', path: '/seq', value: seq },
    { op: 'replace', path: '/pad', value: pad },
    { op: 'replace', path: '/sentAt', value: nowMs() },
  ];
  const body = JSON.stringify({ query: MUTATION, variables: { c: collection, id, patch } });
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }, timeout: 30_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const ms = performance.now() - started;
        try {
          const parsed = JSON.parse(text) as { data?: { patchDocument: { version: number } }; errors?: unknown };
          if (parsed.data?.patchDocument) resolve({ ok: true, ms, version: parsed.data.patchDocument.version });
          else resolve({ ok: false, ms, error: text.slice(0, 300) });
        } catch {
          resolve({ ok: false, ms, error: `${response.statusCode}: ${text.slice(0, 300)}` });
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out after 30 s')));
    request.on('error', (error) => resolve({ ok: false, ms: performance.now() - started, error: error.message }));
    request.end(body);
  });
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0) * 100) / 100;

const methods = {
  /** Writes `count` patches, `rate` per second; resolves when every answer is in. */
  async write(params: { url: string; headers: Record<string, string>; collection: string; id: string; rate: number; count: number; seqStart: number; padBytes?: number }) {
    const { url, headers, collection, id, rate, count, seqStart, padBytes = DEFAULT_PAD_BYTES } = params;
    const pad = 'p'.repeat(padBytes);
    const period = 1000 / rate;
    const started = performance.now();
    const answers: Promise<Answer>[] = [];
    let maxLateMs = 0;
    for (let i = 0; i < count; i++) {
      const due = started + i * period;
      const wait = due - performance.now();
      if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
      maxLateMs = Math.max(maxLateMs, performance.now() - due);
      answers.push(post(url, headers, collection, id, seqStart + i, pad));
    }
    const settled = await Promise.all(answers);
    const wallMs = performance.now() - started;
    const times = settled.map((a) => a.ms).sort((a, b) => a - b);
    return {
      sent: count,
      ok: settled.filter((a) => a.ok).length,
      lastVersion: Math.max(0, ...settled.map((a) => a.version ?? 0)),
      wallMs: Math.round(wallMs),
      maxLateMs: Math.round(maxLateMs * 100) / 100,
      ackMs: { p50: percentile(times, 50), p99: percentile(times, 99), max: percentile(times, 100) },
      errorSamples: settled.flatMap((a) => (a.error ? [a.error] : [])).slice(0, 5),
    };
  },
};

export type DocumentWriterMethods = typeof methods;

serveRpc(methods);
