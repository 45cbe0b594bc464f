import { readEnvironmentAuth, resolveSession, verifyEndUserToken, type Platform, type Principal } from '@realtime/core';
import { SESSION_COOKIE, readCookie } from './http/cookies.js';

const ANONYMOUS: Principal = { kind: 'anonymous' };

/**
 * Who is calling, from credentials in the order: an API key (`Authorization: Bearer pk_…|sk_…` or
 * WebSocket `connectionParams.apiKey`), then a session cookie. Invalid credentials are anonymous;
 * resolvers then answer UNAUTHENTICATED with what to send.
 */
export async function resolvePrincipal(
  platform: Platform,
  credentials: { apiKey?: string | undefined; cookieHeader?: string | null | undefined; token?: string | undefined },
): Promise<Principal> {
  if (credentials.apiKey) {
    const key = await platform.keys.resolve(credentials.apiKey);
    if (!key) return ANONYMOUS;
    if (!credentials.token) return key;
    // An end user's token rides with the application's key; an invalid one fails the whole connection.
    const auth = await readEnvironmentAuth(platform.pool, platform.secrets, key);
    return { ...key, endUser: await verifyEndUserToken(credentials.token, auth) };
  }
  const sessionId = readCookie(credentials.cookieHeader, SESSION_COOKIE);
  if (sessionId) return (await resolveSession(platform.pool, sessionId)) ?? ANONYMOUS;
  return ANONYMOUS;
}

/** The bearer token of an Authorization header, if any. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
