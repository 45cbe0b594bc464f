import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RealtimeError, type Platform, type Principal } from '@realtime/core';
import type { TenantResolver } from './use-tenant.js';

/**
 * HTTP event streams (SSE on `/graphql/stream`, and `/graphql` with `Accept: text/event-stream`) end when the
 * credentials they were opened with stop being valid, as WebSocket connections are closed then: at the
 * end user's token expiry (`UNAUTHENTICATED`) and when the API key is revoked (`FORBIDDEN`). The stream's
 * last result carries the error; the client reconnects with fresh credentials. WebSocket subscriptions are
 * left alone here: their socket is closed with 4403 instead (graphql-ws-server.ts).
 */
export function useCredentialLifetime(options: { platform: Platform; tenants: TenantResolver }): Plugin {
  const { platform, tenants } = options;
  return {
    onSubscribe({ args }) {
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      const principal = request ? tenants.forRequest(request)?.principal : undefined;
      if (principal?.kind !== 'key') return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return;
          setResult(endWhenInvalid(result as AsyncIterableIterator<ExecutionResult>, principal, platform));
        },
      };
    },
  };
}

/** Ends `source` with one error result when the key is revoked or the end user's token expires. */
function endWhenInvalid(
  source: AsyncIterableIterator<ExecutionResult>,
  principal: Extract<Principal, { kind: 'key' }>,
  platform: Platform,
): AsyncIterableIterator<ExecutionResult> {
  let fire: (error: RealtimeError) => void = () => undefined;
  const invalid = new Promise<RealtimeError>((resolve) => (fire = resolve));
  const expiresAt = principal.endUser?.expiresAt;
  const timer =
    expiresAt == null
      ? undefined
      : setTimeout(
          () => fire(new RealtimeError('UNAUTHENTICATED', 'the end-user token expired; subscribe again with a fresh token')),
          Math.max(0, expiresAt * 1000 - Date.now()),
        );
  timer?.unref();
  const stopWatching = platform.onControl((message) => {
    if (message.type === 'key-revoked' && message.keyId === principal.keyId) {
      fire(new RealtimeError('FORBIDDEN', 'the API key was revoked'));
    }
  });
  let finished = false;
  const finish = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    stopWatching();
    await source.return?.();
  };

  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return { value: undefined, done: true };
      const next = await Promise.race([source.next(), invalid]);
      if (next instanceof RealtimeError) {
        await finish();
        return { value: { errors: [next] }, done: false };
      }
      if (next.done) await finish();
      return next;
    },
    async return() {
      await finish();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
