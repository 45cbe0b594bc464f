import { randomBytes } from 'node:crypto';
import type { Redis } from '@realtime/core';

/**
 * A lease in Redis: at most one holder at a time across all instances (`SET key token NX PX`). The holder
 * renews it well before it expires; a holder that dies stops renewing and another instance acquires it once
 * `ttlMs` has passed. Renew and release only act while the key still holds this holder's token, so a
 * holder that was too slow can never extend or delete a successor's lease.
 */
export interface Lease {
  /** True when this holder now holds the lease. */
  acquire(): Promise<boolean>;
  /** True when the lease was still ours and is extended; false means it was lost: stop the work at once. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

export interface LeaseOptions {
  redis: Redis;
  key: string;
  /** Milliseconds the lease lives without renewal. */
  ttlMs: number;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export function createLease(options: LeaseOptions): Lease {
  const { redis, key, ttlMs } = options;
  const token = randomBytes(12).toString('hex');
  return {
    async acquire() {
      const set = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (set === 'OK') return true;
      // Already ours (a renewal raced with a retry): keep it.
      return (await redis.eval(RENEW, 1, key, token, ttlMs)) === 1;
    },
    async renew() {
      return (await redis.eval(RENEW, 1, key, token, ttlMs)) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
