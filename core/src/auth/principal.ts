import { forbidden, unauthenticated } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';
import type { EndUser } from './end-user.js';

export type UserRole = 'OWNER' | 'ADMIN' | 'DEVELOPER' | 'VIEWER';
export type ApiKeyKind = 'PUBLISHABLE' | 'SECRET';

/** Who is calling: a signed-in console user, an API key, or nobody. */
export type Principal =
  | { kind: 'user'; userId: string; email: string; role: UserRole; sessionHash: string }
  | {
      kind: 'key';
      keyId: string;
      keyKind: ApiKeyKind;
      applicationId: string;
      environment: EnvironmentName;
      /** The end user of a publishable key's connection, when it sent a valid token. */
      endUser?: EndUser;
    }
  | { kind: 'anonymous' };

export type KeyPrincipal = Extract<Principal, { kind: 'key' }>;
export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export function requireUser(principal: Principal): UserPrincipal {
  if (principal.kind === 'user') return principal;
  if (principal.kind === 'key') throw forbidden('this operation needs a signed-in user; API keys cannot do it');
  throw unauthenticated('sign in first (signIn mutation) or send a session cookie');
}

/**
 * Allows a signed-in user, or a SECRET key of exactly this application and environment
 * (secret keys administer their own application). Publishable keys are refused.
 */
export function requireAdminOf(principal: Principal, applicationId: string, environment: EnvironmentName): void {
  if (principal.kind === 'user') return;
  if (principal.kind === 'anonymous') {
    throw unauthenticated('send `Authorization: Bearer sk_…` or sign in to administer an application');
  }
  if (principal.keyKind !== 'SECRET') throw forbidden('a publishable key (pk_) can only subscribe; use a secret key (sk_)');
  if (principal.applicationId !== applicationId || principal.environment !== environment) {
    throw forbidden('this key belongs to another application or environment');
  }
}

/** Allows only a SECRET key; the application and environment come from the key. */
export function requireSecretKey(principal: Principal): KeyPrincipal {
  if (principal.kind === 'anonymous') throw unauthenticated('send `Authorization: Bearer sk_…` to publish');
  if (principal.kind === 'user') throw forbidden('publishing needs a secret key (sk_), which names the application and environment');
  if (principal.keyKind !== 'SECRET') throw forbidden('a publishable key (pk_) can only subscribe; publish with a secret key (sk_)');
  return principal;
}

/** Allows any API key (publishable or secret): subscriptions are scoped by the key's application and environment. */
export function requireKey(principal: Principal): KeyPrincipal {
  if (principal.kind === 'key') return principal;
  if (principal.kind === 'user') throw forbidden('subscriptions need an API key (connectionParams.apiKey)');
  throw unauthenticated('send an API key: connectionParams { apiKey: "pk_…" } on WebSocket, or Authorization: Bearer on HTTP');
}
