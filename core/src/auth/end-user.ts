import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Queryable } from '../db/queryable.js';
import { RealtimeError, badInput, forbidden } from '../errors.js';
import type { Scope } from '../redis/keys.js';
import type { EventEnvelope } from '../protocol.js';
import { randomToken } from './secrets.js';
import type { SecretBox } from './encryption.js';

/** An end user of an application, from a verified JWT sent with a publishable key. */
export interface EndUser {
  /** The token's `sub`. */
  sub: string;
  /** Topic patterns the token grants (`order.*`, `chat.**`), from its `topics` claim. */
  topics: readonly string[];
  claims: Readonly<Record<string, unknown>>;
  /** Unix seconds of `exp`, or null for a token without expiry. */
  expiresAt: number | null;
}

/** How an environment verifies end-user tokens: its HS256 secret and/or a JWKS URL (RS256, EdDSA). */
export interface EnvironmentAuth {
  jwtSecret: string | null;
  jwksUrl: string | null;
}

export async function readEnvironmentAuth(db: Queryable, box: SecretBox, scope: Scope): Promise<EnvironmentAuth> {
  const { rows } = await db.query<{ jwt_secret_encrypted: string | null; jwks_url: string | null }>(
    'SELECT jwt_secret_encrypted, jwks_url FROM environments WHERE application_id = $1 AND name = $2',
    [scope.applicationId, scope.environment],
  );
  const row = rows[0];
  let jwtSecret: string | null = null;
  if (row?.jwt_secret_encrypted) {
    try {
      jwtSecret = box.open(row.jwt_secret_encrypted);
    } catch {
      throw new RealtimeError(
        'UNAUTHENTICATED',
        'the JWT secret of this environment cannot be decrypted (REALTIME_SECRET_KEY changed?): rotate it with rotateJwtSecret',
      );
    }
  }
  return { jwtSecret, jwksUrl: row?.jwks_url ?? null };
}

/** Creates (or replaces) the environment's HS256 secret; returns it once. Stored encrypted. */
export async function rotateJwtSecret(db: Queryable, box: SecretBox, scope: Scope): Promise<string> {
  const secret = `jwt_${randomToken(32)}`;
  await db.query('UPDATE environments SET jwt_secret_encrypted = $3 WHERE application_id = $1 AND name = $2', [
    scope.applicationId,
    scope.environment,
    box.seal(secret),
  ]);
  return secret;
}

/** Sets (or clears, with null) the JWKS URL whose keys verify RS256 and EdDSA tokens. */
export async function setJwksUrl(db: Queryable, scope: Scope, url: string | null): Promise<void> {
  if (url !== null) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badInput(`jwksUrl "${url}" is not a URL`, { field: 'jwksUrl' });
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw badInput('jwksUrl must be http(s)', { field: 'jwksUrl' });
  }
  await db.query('UPDATE environments SET jwks_url = $3 WHERE application_id = $1 AND name = $2', [scope.applicationId, scope.environment, url]);
}

const jwksSets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

const unauthenticated = (why: string): RealtimeError => new RealtimeError('UNAUTHENTICATED', `the token is not valid: ${why}`);

/**
 * Verifies an end-user JWT for an environment: HS256 with the environment's secret, or RS256/EdDSA with a
 * key from its JWKS URL. Requires `sub`; `topics` (array of patterns) grants protected topics.
 */
export async function verifyEndUserToken(token: string, auth: EnvironmentAuth): Promise<EndUser> {
  let payload: JWTPayload;
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string };
    if (header.alg === 'HS256') {
      if (!auth.jwtSecret) throw unauthenticated('HS256 tokens need a JWT secret for this environment (rotateJwtSecret)');
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(auth.jwtSecret), { algorithms: ['HS256'] }));
    } else {
      if (!auth.jwksUrl) throw unauthenticated(`${header.alg ?? 'unsigned'} tokens need a JWKS URL for this environment (setJwksUrl)`);
      let keys = jwksSets.get(auth.jwksUrl);
      if (!keys) jwksSets.set(auth.jwksUrl, (keys = createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000 })));
      ({ payload } = await jwtVerify(token, keys, { algorithms: ['RS256', 'EdDSA'] }));
    }
  } catch (error) {
    if (error instanceof RealtimeError) throw error;
    throw unauthenticated((error as Error).message);
  }
  // (readEnvironmentAuth failing to decrypt — REALTIME_SECRET_KEY changed — is reported by the caller.)
  if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthenticated('it has no "sub" claim');
  const topics = Array.isArray(payload.topics) ? payload.topics.filter((t): t is string => typeof t === 'string') : [];
  return { sub: payload.sub, topics, claims: payload as Record<string, unknown>, expiresAt: payload.exp ?? null };
}

/** `order.*` grants `order.updated` (one word); `order.**` grants `order.line.added` too; `**` grants all. */
export function topicGranted(patterns: readonly string[], topic: string): boolean {
  return patterns.some((pattern) => {
    const regex = pattern
      .split('.')
      .map((part) => (part === '**' ? '.+' : part === '*' ? '[a-z0-9_]+' : part.replace(/[^a-z0-9_]/g, '\\$&')))
      .join('\\.');
    return new RegExp(`^${regex}$`).test(topic);
  });
}

/** A topic rule: deliver an event to an end user only where `data.<path>` equals the user's `<claim>`. */
export interface ClaimFilter {
  path: string;
  claim: string;
}

const valueAt = (data: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), data);

/**
 * The filter an end user's subscription to a topic gets from the topic's claim rules; undefined when the
 * topic has none. A rule naming a claim the token lacks refuses the subscription (never delivers all).
 */
export function claimBoundFilter(
  rules: readonly ClaimFilter[],
  user: EndUser,
  topic: string,
): ((event: Readonly<EventEnvelope>) => boolean) | undefined {
  if (rules.length === 0) return undefined;
  const bound = rules.map((rule) => {
    const expected = user.claims[rule.claim];
    if (expected === undefined) throw forbidden(`topic "${topic}" delivers only events whose ${rule.path} equals your "${rule.claim}" claim, which the token lacks`);
    return { path: rule.path, expected };
  });
  return (event) => bound.every((b) => valueAt(event.data, b.path) === b.expected);
}
