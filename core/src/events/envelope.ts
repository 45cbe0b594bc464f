import { v7 as uuidv7 } from 'uuid';
import type { EnvironmentName, EventEnvelope } from '../protocol.js';

export interface EnvelopeInput {
  topic: string;
  applicationId: string;
  environment: EnvironmentName;
  schemaVersion: number;
  data: unknown;
  subject?: string | null | undefined;
  traceparent?: string | null | undefined;
  /** Defaults to the publish API's source for the application. */
  source?: string | undefined;
  /** Fixed ids for producers that must be idempotent (CDC: derived from the log position). */
  id?: string | undefined;
  replayOf?: string | undefined;
}

/**
 * Builds the envelope for every producer (publish API, CDC, outbox). The cursor is assigned when the
 * event is appended to history, so it is empty here.
 */
export function buildEnvelope(input: EnvelopeInput, now: Date = new Date()): EventEnvelope {
  const envelope: EventEnvelope = {
    id: input.id ?? uuidv7(),
    topic: input.topic,
    source: input.source ?? `/applications/${input.applicationId}/${input.environment.toLowerCase()}`,
    time: now.toISOString(),
    applicationId: input.applicationId,
    environment: input.environment,
    subject: input.subject ?? null,
    schemaVersion: input.schemaVersion,
    cursor: '',
    traceparent: input.traceparent ?? null,
    data: input.data,
  };
  if (input.replayOf !== undefined) envelope.replayOf = input.replayOf;
  return envelope;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A W3C traceparent header value, or null when absent or malformed (a bad header never fails a publish). */
export function normalizeTraceparent(value: string | null | undefined): string | null {
  return value && TRACEPARENT.test(value) ? value : null;
}
