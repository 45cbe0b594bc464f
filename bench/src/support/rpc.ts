/**
 * Request/response over a forked child's IPC channel: `call` sends `{ id, method, params }` and resolves
 * with the child's `{ id, result }` (or rejects with its `{ id, error }`). One helper for both sides, so
 * the load generators stay plain functions.
 */
import type { ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  method: string;
  params: unknown;
}
interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

export interface RpcClient<M extends Record<string, (params: never) => unknown>> {
  call<K extends keyof M & string>(method: K, params: Parameters<M[K]>[0], timeoutMs?: number): Promise<Awaited<ReturnType<M[K]>>>;
}

export function rpcClient<M extends Record<string, (params: never) => unknown>>(child: ChildProcess): RpcClient<M> {
  let next = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (message: Response) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });
  // A send to a child that already exited fails asynchronously; the pending call is rejected on exit below.
  child.on('error', () => undefined);
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`child exited (${code ?? signal}) before answering`));
    pending.clear();
  });
  return {
    call(method, params, timeoutMs = 120_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        if (!child.connected) {
          reject(new Error(`${method}: the child process is gone`));
          return;
        }
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as never);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, method, params } satisfies Request);
      });
    },
  };
}

/** Child side: answers calls with `methods`; exits when the parent goes away. */
export function serveRpc(methods: Record<string, (params: never) => unknown>): void {
  process.on('message', (message: Request) => {
    const method = methods[message.method];
    Promise.resolve()
      .then(() => {
        if (!method) throw new Error(`unknown method ${message.method}`);
        return method(message.params as never);
      })
      .then(
        (result) => process.send?.({ id: message.id, result } satisfies Response),
        (error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies Response),
      );
  });
  process.once('disconnect', () => process.exit(0));
}
