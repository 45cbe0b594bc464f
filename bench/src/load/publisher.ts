/**
 * The publisher, forked by the scenario: publishes events at a fixed rate (open loop: it does not wait for
 * one answer before sending the next) over keep-alive HTTP, stamping `sentAt` just before each request.
 */
import http from 'node:http';
import { serveRpc } from '../support/rpc.js';
import { channelOfEvent, makeTick, publishRequest, publishSucceeded, type Layout, type PublishSpec, type Tick } from './wire.js';

/**
 * Keep-alive connections, up to 32 in flight (open loop). The agent timeout is only there so that Node honours
 * the server's `Keep-Alive: timeout=5` hint and drops an idle socket before the server closes it (which would
 * fail the next publish on it with ECONNRESET).
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 60_000 });

interface Answer {
  ok: boolean;
  ms: number;
  error?: string;
}

function post(spec: PublishSpec, data: Tick): Promise<Answer> {
  const { body, headers: specHeaders } = publishRequest(spec, data);
  const headers = { ...specHeaders, 'content-length': Buffer.byteLength(body) };
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(spec.url, { method: 'POST', agent, headers, timeout: 30_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const ms = performance.now() - started;
        const ok = publishSucceeded(spec, response.statusCode ?? 0, text);
        resolve(ok ? { ok, ms } : { ok, ms, error: `${response.statusCode}: ${text.slice(0, 300)}` });
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
  /**
   * Publishes `count` events with seqs from `seqStart`, `rate` per second; resolves when every answer is in.
   * With several specs (one per channel), event `seq` goes to the spec of its channel in `layout` (by default
   * `spec[seq % spec.length]`). With `recordSentAt`, the answer lists every event's `sentAt` (by seq − seqStart),
   * for a subscriber process that must tell which events a client could have received.
   */
  async publish(params: {
    spec: PublishSpec | PublishSpec[];
    rate: number;
    count: number;
    seqStart: number;
    windowFrom?: number;
    windowTo?: number;
    payloadBytes?: number;
    layout?: Layout;
    recordSentAt?: boolean;
  }) {
    const { rate, count, seqStart, windowFrom = seqStart, windowTo = seqStart + count, payloadBytes } = params;
    const specs = Array.isArray(params.spec) ? params.spec : [params.spec];
    const layout = params.layout ?? { kind: 'topics', topics: specs.length };
    const sentAt: number[] = [];
    const period = 1000 / rate;
    const started = performance.now();
    const answers: Promise<Answer>[] = [];
    let maxLateMs = 0;
    for (let i = 0; i < count; i++) {
      const due = started + i * period;
      const wait = due - performance.now();
      if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
      maxLateMs = Math.max(maxLateMs, performance.now() - due);
      const seq = seqStart + i;
      const data = makeTick(seq, payloadBytes);
      if (params.recordSentAt) sentAt.push(data.sentAt);
      answers.push(post(specs[channelOfEvent(layout, seq)] as PublishSpec, data));
    }
    const sendMs = performance.now() - started;
    const settled = await Promise.all(answers);
    const failedSeqs: number[] = [];
    const errorSamples: string[] = [];
    let okInWindow = 0;
    settled.forEach((answer, i) => {
      const seq = seqStart + i;
      if (answer.ok) {
        if (seq >= windowFrom && seq < windowTo) okInWindow += 1;
        return;
      }
      if (failedSeqs.length < 100) failedSeqs.push(seq);
      if (errorSamples.length < 5 && answer.error) errorSamples.push(answer.error);
    });
    const times = settled.map((a) => a.ms).sort((a, b) => a - b);
    return {
      sent: count,
      ok: settled.filter((a) => a.ok).length,
      okInWindow,
      failedSeqs,
      errorSamples,
      sendMs: Math.round(sendMs),
      maxLateMs: Math.round(maxLateMs * 100) / 100,
      httpMs: { p50: percentile(times, 50), p99: percentile(times, 99), max: percentile(times, 100) },
      sentAt,
    };
  },
};

export type PublisherMethods = typeof methods;

serveRpc(methods);
