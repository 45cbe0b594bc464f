import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret is `whsec_` + base64 of 32 random
 * bytes; a signature is `v1,` + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")) where the
 * key is the secret's decoded bytes. During a rotation the header lists one signature per valid secret,
 * separated by spaces; receivers accept a message when any of them verifies.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** A new endpoint secret, shown once and stored sealed. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * Each secret's key bytes, decoded once: a worker signs every attempt with the same few secrets (decoding one
 * took about a third of a signature). Bounded like the opened secrets they come from (endpoints.ts).
 */
const signingKeys = new Map<string, Buffer>();

function signingKey(secret: string): Buffer {
  let key = signingKeys.get(secret);
  if (key === undefined) {
    if (signingKeys.size >= 10_000) signingKeys.clear();
    key = Buffer.from(secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret, 'base64');
    signingKeys.set(secret, key);
  }
  return key;
}

/** The `v1,<base64>` signature of one message with one secret. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', signingKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three Standard Webhooks headers for one attempt, signed with every secret given (newest first). */
export function webhookHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => signWebhook(secret, id, timestampSeconds, body)).join(' '),
  };
}
