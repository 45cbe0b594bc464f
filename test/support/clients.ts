/** Clients that speak the wire: GraphQL over HTTP with fetch, and graphql-ws over a real WebSocket. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  setCookie: string[];
}

export interface HttpAuth {
  key?: string;
  cookie?: string;
}

export async function gql<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  auth: HttpAuth = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.key) headers.authorization = `Bearer ${auth.key}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const response = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status' | 'setCookie'>;
  return { status: response.status, ...body, setCookie: response.headers.getSetCookie() };
}

/** The first error code of a response, for assertions. */
export const errorCode = (response: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }): unknown =>
  response.errors?.[0]?.extensions?.code;

export interface WsConnection {
  client: Client;
  /** Resolves with the close event's code once the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  dispose(): Promise<void>;
}

/** A graphql-ws client that connects at once and never retries, so tests see every close. */
export function connectWs(baseUrl: string, connectionParams: Record<string, unknown>): WsConnection {
  let onClosed: (event: { code: number; reason: string }) => void = () => undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    on: { closed: (event) => onClosed(event as { code: number; reason: string }) },
    onNonLazyError: () => undefined,
  });
  return { client, closed, dispose: () => client.dispose() as Promise<void> };
}

export interface Subscription<T> {
  /** Results received so far (data or errors), in order. */
  results: { data?: T | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[];
  /** Resolves when the server completes or errors the subscription. */
  ended: Promise<unknown>;
  /** Waits until at least `n` results arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

export function subscribe<T = Record<string, unknown>>(
  connection: WsConnection,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<T> {
  const results: Subscription<T>['results'] = [];
  let waiters: (() => void)[] = [];
  let settle: (value: unknown) => void = () => undefined;
  const ended = new Promise((resolve) => (settle = resolve));
  const stop = connection.client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        results.push(value as Subscription<T>['results'][number]);
        const ready = waiters;
        waiters = [];
        ready.forEach((w) => w());
      },
      error: (error) => settle({ error }),
      complete: () => settle({ complete: true }),
    },
  );
  return {
    results,
    ended,
    stop,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (results.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} results, got ${results.length}: ${JSON.stringify(results)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}
