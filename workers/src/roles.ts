import type { Platform } from '@realtime/core';
import { webhooksRole } from './webhooks/role.js';
import { cdcRole } from './cdc/cdc-role.js';
import { outboxRole } from './outbox/outbox-role.js';

/** A background role a process can run: started with the connected platform, stopped on shutdown. */
export interface WorkerRole {
  readonly name: string;
  readonly description: string;
  start(platform: Platform): Promise<{ stop(): Promise<void> }>;
}

/**
 * The background roles that exist. Asking for a role not listed here is an error, not a silent no-op.
 */
export const WORKER_ROLES: ReadonlyMap<string, WorkerRole> = new Map<string, WorkerRole>([
  [webhooksRole.name, webhooksRole],
  [cdcRole.name, cdcRole],
  [outboxRole.name, outboxRole],
]);

/** Every role name a process accepts: the API plus the worker roles. */
export const ROLE_NAMES: readonly string[] = ['api', ...WORKER_ROLES.keys()];

/**
 * Parses `--role a,b` (or `all`) into role names; throws with the list of known roles on an unknown one.
 */
export function parseRoles(text: string | undefined): string[] {
  if (text === undefined || text === 'all') return [...ROLE_NAMES];
  const names = [...new Set(text.split(',').map((r) => r.trim()).filter(Boolean))];
  const unknown = names.filter((n) => !ROLE_NAMES.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`unknown role "${unknown.join(', ') || text}"; available roles: ${ROLE_NAMES.join(', ')} (or "all")`);
  }
  return names;
}

/** Starts the named worker roles in order; if one fails, those already started are stopped again. */
export async function startWorkerRoles(platform: Platform, names: readonly string[]): Promise<{ stop(): Promise<void> }> {
  const running: { stop(): Promise<void> }[] = [];
  try {
    for (const name of names) {
      const role = WORKER_ROLES.get(name);
      if (role) running.push(await role.start(platform));
    }
  } catch (error) {
    for (const r of running.reverse()) await r.stop();
    throw error;
  }
  return {
    async stop() {
      for (const r of running.reverse()) await r.stop();
    },
  };
}
