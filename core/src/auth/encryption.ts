import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/queryable.js';

/** Encrypts and decrypts secrets at rest with AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/**
 * The configured key, or for development a key generated once and kept in the database (the warning says
 * so: a key beside the data it protects only guards against leaks of single columns).
 */
export async function resolveSecretKey(db: Queryable, configured: Buffer | undefined, warn: (message: string) => void): Promise<Buffer> {
  if (configured) return configured;
  await db.query(`INSERT INTO platform_secrets (name, value) VALUES ('development-secret-key', $1) ON CONFLICT (name) DO NOTHING`, [
    randomBytes(32).toString('base64'),
  ]);
  const { rows } = await db.query<{ value: string }>(`SELECT value FROM platform_secrets WHERE name = 'development-secret-key'`);
  warn('REALTIME_SECRET_KEY is not set: secrets are encrypted with a development key kept in the database; set it in production');
  return Buffer.from((rows[0] as { value: string }).value, 'base64');
}
