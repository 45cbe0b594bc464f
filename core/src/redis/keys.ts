import type { EnvironmentName } from '../protocol.js';

/**
 * Every Redis key and channel the platform uses is built here, and every one is scoped by
 * prefix, application and environment: `<prefix>:<applicationId>:<ENV>:<kind>:<name>`.
 */
export interface TopicKeys {
  /** Pub/Sub channel of live events. */
  channel: string;
  /** Stream holding the topic's history. */
  history: string;
  /** String holding the history's epoch; a new epoch means the history was lost. */
  epoch: string;
  /** Counter of events published in the current epoch: the offset of the newest one. */
  offset: string;
}

export interface Scope {
  applicationId: string;
  environment: EnvironmentName;
}

export function topicKeys(prefix: string, scope: Scope, topic: string): TopicKeys {
  const base = `${prefix}:${scope.applicationId}:${scope.environment}`;
  return {
    channel: `${base}:ch:${topic}`,
    history: `${base}:h:${topic}`,
    epoch: `${base}:ep:${topic}`,
    offset: `${base}:of:${topic}`,
  };
}

/** The channel on which registry changes are announced to every instance. */
export const registryChannel = (prefix: string): string => `${prefix}:registry`;

/** Where a producer's idempotency key remembers the event it published (per application environment). */
export const idempotencyKey = (prefix: string, scope: Scope, key: string): string =>
  `${prefix}:${scope.applicationId}:${scope.environment}:idem:${key}`;

/** A key's publish counter for one second (fixed window), shared by every instance. */
export const rateKey = (prefix: string, scope: Scope, keyId: string, second: number): string =>
  `${prefix}:${scope.applicationId}:${scope.environment}:rate:${keyId}:${second}`;

/** The Pub/Sub channel of a topic's ephemeral client broadcasts (never stored). */
export const broadcastChannel = (prefix: string, scope: Scope, topic: string): string =>
  `${prefix}:${scope.applicationId}:${scope.environment}:bc:${topic}`;

/** A worker lease on one thing of an application environment (a CDC source's slot, its outbox relay). */
export const leaseKey = (prefix: string, scope: Scope, name: string): string =>
  `${prefix}:${scope.applicationId}:${scope.environment}:lease:${name}`;
