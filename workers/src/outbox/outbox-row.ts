import {
  PLATFORM_TOPIC_PREFIX,
  RealtimeError,
  deterministicEventId,
  type CdcSource,
  type EventEnvelope,
  type Platform,
  type PreparedPublish,
} from '@realtime/core';

/**
 * The outbox table applications write in the same transaction as their business change (see the README):
 *
 * ```sql
 * CREATE TABLE realtime_outbox (
 *   id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
 *   topic text NOT NULL,
 *   subject text,
 *   data jsonb NOT NULL,
 *   created_at timestamptz NOT NULL DEFAULT now()
 * );
 * ```
 */
export interface OutboxRow {
  id: unknown;
  topic: unknown;
  subject: unknown;
  data: unknown;
  created_at: unknown;
}

/**
 * The event id of an outbox row: fixed by (source, row id), time-ordered by the row's `created_at` (in
 * milliseconds; the stream gives it as ISO text, the poller as a number), so both relay modes agree.
 */
export function outboxEventId(sourceId: string, row: Pick<OutboxRow, 'id' | 'created_at'>): string {
  const time = typeof row.created_at === 'number' ? row.created_at : Date.parse(String(row.created_at));
  return deterministicEventId(Number.isNaN(time) ? 0 : time, sourceId, 'outbox', String(row.id));
}

/**
 * Publishes one outbox row through the normal publish path (registry validation, history, fan-out,
 * webhooks) into the source's application environment. The event id derives from the row id and is the
 * idempotency key, so a row relayed twice (after a crash) is stored once within the idempotency window and
 * always carries the same id. A row naming an unregistered topic or failing its schema throws: the relay
 * stops there (never skips a row) and the source shows the error until it is fixed.
 */
export async function publishOutboxRow(platform: Platform, source: CdcSource, row: OutboxRow): Promise<EventEnvelope> {
  const send = await prepareOutboxRow(platform, source, row);
  return send();
}

/**
 * publishOutboxRow in two steps (see Publisher.prepareSystem): validation first, then the send, so the
 * streaming relay can send the next row before this one is acknowledged.
 */
export async function prepareOutboxRow(platform: Platform, source: CdcSource, row: OutboxRow): Promise<PreparedPublish> {
  const described = (error: unknown): unknown =>
    error instanceof RealtimeError
      ? new RealtimeError(error.code, `outbox row ${String(row.id)} (topic "${row.topic as string}"): ${error.message}`)
      : error;
  if (typeof row.topic !== 'string' || row.topic.startsWith(PLATFORM_TOPIC_PREFIX)) {
    throw new RealtimeError('BAD_USER_INPUT', `outbox row ${String(row.id)}: topic must name a registered application topic, got ${JSON.stringify(row.topic)}`);
  }
  let send: PreparedPublish;
  try {
    send = await platform.publisher.prepareSystem(
      { applicationId: source.applicationId, environment: source.environment },
      {
        topic: row.topic,
        subject: typeof row.subject === 'string' && row.subject !== '' ? row.subject : null,
        data: row.data,
        id: outboxEventId(source.id, row),
        source: `/cdc/${source.id}/outbox`,
      },
    );
  } catch (error) {
    throw described(error);
  }
  return () =>
    send().catch((error: unknown) => {
      throw described(error);
    });
}
