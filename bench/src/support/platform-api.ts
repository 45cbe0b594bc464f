/** Talking to our platform from the bench: its admin account, its environment, its GraphQL API. */
import { POSTGRES_URL, REDIS_URL } from './services.js';

/** The owner account every bench start of ours creates (127.0.0.1 only). */
export const ADMIN = { email: 'bench@example.test', password: 'bench password, 127.0.0.1 only' };

/** The environment of `node server/dist/main.js start` on a bench database and Redis prefix, plus `extra`. */
export function platformEnv(options: { port: number; database: string; prefix: string; extra?: Record<string, string> }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    DATABASE_URL: `${POSTGRES_URL}/${options.database}`,
    REDIS_URL,
    REALTIME_REDIS_PREFIX: options.prefix,
    REALTIME_ADMIN_EMAIL: ADMIN.email,
    REALTIME_ADMIN_PASSWORD: ADMIN.password,
    REALTIME_SHUTDOWN_GRACE_MS: '2000',
    LOG_LEVEL: 'warn',
    // The same event-loop delay resolution as the peers' own monitors (server-stats.ts), so the figures compare.
    REALTIME_EVENT_LOOP_RESOLUTION_MS: '10',
    ...options.extra,
  };
}

/** One GraphQL call; throws on any error. */
export async function gql<T>(base: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ data: T; setCookie: string[] }> {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`GraphQL call failed: ${query.slice(0, 60)}… → ${JSON.stringify(body.errors)}`);
  return { data: body.data, setCookie: response.headers.getSetCookie() };
}

/** Signs in as ADMIN; returns the session cookie (`rt_session=…`). */
export async function signInAdmin(base: string): Promise<string> {
  const signIn = await gql(base, 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }', ADMIN);
  const cookie = signIn.setCookie.find((c) => c.startsWith('rt_session='))?.split(';')[0];
  if (!cookie) throw new Error('signIn set no rt_session cookie');
  return cookie;
}
