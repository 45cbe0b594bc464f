import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { bareHostname, isForbiddenAddress, systemResolver, type HostResolver } from '@realtime/core';

/** The outcome of one HTTP attempt; `statusCode` null when no response arrived (refused, timeout, reset). */
export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  /** The first bytes of the response body (up to the excerpt cap), as text. */
  responseExcerpt: string | null;
  /** What went wrong, for people: `HTTP 500`, `connect timeout after 5000 ms`, `refused: resolves to 10.0.0.1 …`. */
  error: string | null;
  /** A 429 or 503 response's Retry-After, in milliseconds (capped at one day). */
  retryAfterMs: number | null;
}

export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string): Promise<SendResult>;
  close(): Promise<void>;
}

export interface WebhookSenderOptions {
  /** Milliseconds to open a connection. @default 5000 */
  connectTimeoutMs?: number;
  /** Milliseconds the whole attempt may take. @default 15000 */
  timeoutMs?: number;
  /** Allow loopback, private, link-local and metadata addresses (REALTIME_WEBHOOK_ALLOW_PRIVATE). @default false */
  allowPrivate?: boolean;
  /** Bytes of the response body kept as its excerpt; the rest is not read. @default 4096 */
  maxExcerptBytes?: number;
  /** Host name resolution (tests inject one to play DNS rebinding). @default the system resolver */
  resolve?: HostResolver;
}

const DAY_MS = 86_400_000;

/** Parses Retry-After: delay seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  const ms = /^\d+$/.test(text.trim()) ? Number(text.trim()) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), DAY_MS) : null;
}

/**
 * The first `maxBytes` of a response body as text (null when empty); the rest is never read (the socket is
 * dropped). Event listeners rather than an async iterator: most answers are empty, and this runs per attempt.
 * A body cut short still leaves the status, which decides the outcome, so a read error ends the excerpt.
 */
function readExcerpt(body: Readable, maxBytes: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      body.off('data', onData).off('end', done).off('error', done).on('error', () => undefined);
      resolve(size > 0 ? Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8') : null);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) {
        done();
        body.destroy();
      }
    };
    body.on('data', onData).on('end', done).on('error', done);
  });
}

/** Raised inside the connector when a host resolves to a forbidden address. */
class ForbiddenAddressError extends Error {
  readonly code = 'WEBHOOK_FORBIDDEN_ADDRESS';
}

/**
 * Sends webhook requests over keep-alive connections (one undici Agent per process). Redirects are not
 * followed (a 3xx is a failure), the response body is read only up to the excerpt cap, and, unless private
 * delivery is allowed, every address a host resolves to is checked at connect time, inside the connector's
 * DNS lookup: a host that resolved to a public address when the endpoint was created and to a private one
 * now (DNS rebinding) is refused, and IP-literal hosts are checked before connecting.
 */
export function createWebhookSender(options: WebhookSenderOptions = {}): WebhookSender {
  const { connectTimeoutMs = 5_000, timeoutMs = 15_000, allowPrivate = false, maxExcerptBytes = 4096, resolve = systemResolver } = options;

  const lookup = (
    hostname: string,
    lookupOptions: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '');
        if (!allowPrivate) {
          const bad = addresses.find((a) => isForbiddenAddress(a.address));
          if (bad) {
            return callback(new ForbiddenAddressError(`refused: ${hostname} resolves to ${bad.address}, a loopback, private, link-local or metadata address`), '');
          }
        }
        const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? addresses.filter((a) => a.family === lookupOptions.family) : addresses;
        const usable = wanted.length > 0 ? wanted : addresses;
        if (lookupOptions.all) return callback(null, usable);
        const first = usable[0] as LookupAddress;
        return callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };

  const agent = new Agent({
    connect: { timeout: connectTimeoutMs, lookup: lookup as never },
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  return {
    async send(url, headers, body) {
      const started = performance.now();
      const elapsed = (): number => performance.now() - started;
      const failure = (error: string, statusCode: number | null = null): SendResult => ({
        ok: false,
        statusCode,
        latencyMs: elapsed(),
        responseExcerpt: null,
        error,
        retryAfterMs: null,
      });
      let host: string;
      try {
        host = bareHostname(new URL(url));
      } catch {
        return failure(`invalid url ${url}`);
      }
      if (!allowPrivate && isIP(host) && isForbiddenAddress(host)) {
        return failure(`refused: ${host} is a loopback, private, link-local or metadata address`);
      }
      // One plain timer per attempt: AbortSignal.timeout costs several times more per request at thousands a second.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const response = await request(url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          maxRedirections: 0,
          signal: controller.signal,
        });
        const excerpt = await readExcerpt(response.body, maxExcerptBytes);
        const status = response.statusCode;
        const ok = status >= 200 && status < 300;
        return {
          ok,
          statusCode: status,
          latencyMs: elapsed(),
          responseExcerpt: excerpt,
          error: ok ? null : status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
          retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after']) : null,
        };
      } catch (error) {
        const err = error as { name?: string; code?: string; message?: string; cause?: { message?: string; code?: string } };
        if (err.name === 'TimeoutError' || err.name === 'AbortError') return failure(`timed out after ${timeoutMs} ms`);
        if (err.code === 'UND_ERR_CONNECT_TIMEOUT') return failure(`connect timeout after ${connectTimeoutMs} ms`);
        const message = err.cause?.message ?? err.message ?? String(error);
        return failure(err.code && !message.startsWith('refused') ? `${err.code}: ${message}` : message);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await agent.close();
    },
  };
}
