import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';
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

  /** The origin and path of each endpoint URL, parsed once (an endpoint's URL rarely changes). */
  const targets = new Map<string, { origin: string; path: string; host: string } | null>();
  const targetOf = (url: string): { origin: string; path: string; host: string } | null => {
    let target = targets.get(url);
    if (target === undefined) {
      try {
        const parsed = new URL(url);
        target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}`, host: bareHostname(parsed) };
      } catch {
        target = null;
      }
      if (targets.size >= 10_000) targets.clear();
      targets.set(url, target);
    }
    return target;
  };

  return {
    send(url, headers, body) {
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
      const target = targetOf(url);
      if (!target) return Promise.resolve(failure(`invalid url ${url}`));
      if (!allowPrivate && isIP(target.host) && isForbiddenAddress(target.host)) {
        return Promise.resolve(failure(`refused: ${target.host} is a loopback, private, link-local or metadata address`));
      }
      // undici's dispatcher API, not request(): no AbortController, redirect interceptor or body stream per
      // attempt (half the CPU per POST, measured side by side), and the connection's own abort for the timeout.
      return new Promise<SendResult>((resolve) => {
        let settled = false;
        let timedOut = false;
        let abort: ((reason?: Error) => void) | undefined;
        let status = 0;
        let retryAfter: string | undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (result: SendResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        };
        const answered = (): SendResult => {
          const ok = status >= 200 && status < 300;
          return {
            ok,
            statusCode: status,
            latencyMs: elapsed(),
            responseExcerpt: size > 0 ? Buffer.concat(chunks).subarray(0, maxExcerptBytes).toString('utf8') : null,
            error: ok ? null : status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
            retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(retryAfter) : null,
          };
        };
        // One plain timer per attempt for the whole exchange (connect, send, headers, excerpt).
        const timer = setTimeout(() => {
          timedOut = true;
          finish(failure(`timed out after ${timeoutMs} ms`));
          abort?.(new Error('webhook attempt timed out'));
        }, timeoutMs);
        const handler: Parameters<Agent['dispatch']>[1] = {
          onConnect(abortRequest) {
            abort = abortRequest;
            if (timedOut) abortRequest(new Error('webhook attempt timed out'));
          },
          onHeaders(statusCode, rawHeaders) {
            status = statusCode;
            if (statusCode === 429 || statusCode === 503) {
              for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
                if (String(rawHeaders[i]).toLowerCase() === 'retry-after') retryAfter = String(rawHeaders[i + 1]);
              }
            }
            return true;
          },
          onData(chunk) {
            chunks.push(chunk);
            size += chunk.length;
            if (size < maxExcerptBytes) return true;
            // The excerpt is full: the rest is not read, the connection is dropped.
            finish(answered());
            abort?.(new Error('response excerpt complete'));
            return false;
          },
          onComplete() {
            finish(answered());
          },
          onError(error) {
            if (settled) return;
            // A body cut short still leaves the status, which decides the outcome.
            if (status > 0) return finish(answered());
            const err = error as { code?: string; message?: string; cause?: { message?: string } };
            if (err.code === 'UND_ERR_CONNECT_TIMEOUT') return finish(failure(`connect timeout after ${connectTimeoutMs} ms`));
            if (err.code === 'UND_ERR_HEADERS_TIMEOUT') return finish(failure(`timed out after ${timeoutMs} ms`));
            const message = err.cause?.message ?? err.message ?? String(error);
            finish(failure(err.code && !message.startsWith('refused') ? `${err.code}: ${message}` : message));
          },
        };
        try {
          agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers, body }, handler);
        } catch (error) {
          handler.onError?.(error as Error);
        }
      });
    },
    async close() {
      await agent.close();
    },
  };
}
