import type { Redis } from 'ioredis';
import type { Scope } from '../redis/keys.js';

/**
 * The Redis counter of endpoint changes in one application environment: `<prefix>:<app>:<ENV>:whv`.
 * Raised after every committed endpoint change and before the change is acknowledged, so a dispatcher
 * that reads a history entry stored after the change and then this counter sees the change, and reloads
 * its endpoints before handling the entry (an event published right after createWebhookEndpoint returns
 * is never matched against the old endpoint list).
 */
export const webhookVersionKey = (prefix: string, scope: Scope): string => `${prefix}:${scope.applicationId}:${scope.environment}:whv`;

/** What announcing an endpoint change needs (the platform provides all of it). */
export interface WebhookChangeDeps {
  redis: Redis;
  config: { redisKeyPrefix: string };
  announce(message: { type: 'webhooks-changed'; scope: Scope }): Promise<void>;
}

/** Records and announces a committed endpoint change: the version counter first, then the control message. */
export async function webhookEndpointsChanged(deps: WebhookChangeDeps, scope: Scope): Promise<void> {
  await deps.redis.incr(webhookVersionKey(deps.config.redisKeyPrefix, { applicationId: scope.applicationId, environment: scope.environment }));
  await deps.announce({ type: 'webhooks-changed', scope: { applicationId: scope.applicationId, environment: scope.environment } });
}
