/**
 * What crosses the wire in a fan-out run, defined once for every peer: the event payload, how a
 * subscriber speaks to each server, and how the publisher hands it an event.
 */

/** How subscribers connect and subscribe. */
export type WireSpec =
  /** A plain WebSocket: every text frame is an event. */
  | { kind: 'plain'; url: string }
  /** graphql-ws (`graphql-transport-ws`): connection_init with params, then one subscribe operation. */
  | { kind: 'graphql-ws'; url: string; query: string; connectionParams: Record<string, unknown> }
  /** Socket.IO (Engine.IO v4 over WebSocket only): connect to `/`, emit `join` with the room name. */
  | { kind: 'socketio'; url: string; room: string };

/** How the publisher hands the server one event (an HTTP POST on a keep-alive connection). */
export type PublishSpec =
  /** The body is the event data as JSON. */
  | { kind: 'rest'; url: string }
  /** The body is `{ query, variables: { data } }`; a response with `"errors"` counts as failed. */
  | { kind: 'graphql'; url: string; query: string; headers: Record<string, string> };

/** The event data: exactly what the topic schema of `ours` declares (`seq` integer, `sentAt` number, `pad` string). */
export interface Tick {
  seq: number;
  /** Milliseconds since the epoch with sub-millisecond precision, stamped just before the publish request is sent. */
  sentAt: number;
  pad: string;
}

/** Size of the data's JSON form; the pad is sized so that every event's data is this many bytes (± a digit). */
export const PAYLOAD_BYTES = 300;

/** Pad length for data of `bytes` bytes with a 6-digit seq and a 17-character sentAt; shorter numbers make it a few bytes less. */
export const padLength = (bytes: number): number => bytes - JSON.stringify({ seq: 100_000, sentAt: 1_764_277_083_123.456, pad: '' }).length;
export const PAD_LENGTH = padLength(PAYLOAD_BYTES);
const pads = new Map<number, string>();

/** The same clock in every process of the machine: wall time with the monotonic clock's resolution. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** One event's data, `bytes` bytes in its JSON form. */
export function makeTick(seq: number, bytes: number = PAYLOAD_BYTES): Tick {
  let pad = pads.get(bytes);
  if (pad === undefined) pads.set(bytes, (pad = 'x'.repeat(padLength(bytes))));
  return { seq, sentAt: nowMs(), pad };
}

/** A step's label: `1000 subs × 25/s`, with the payload size when it is not the default 300 B. */
export function stepLabel(step: { subscribers: number; rate: number; payloadBytes?: number | undefined; topics?: number | undefined }): string {
  const size = step.payloadBytes && step.payloadBytes !== PAYLOAD_BYTES ? ` × ${step.payloadBytes >= 1024 ? `${Math.round(step.payloadBytes / 1024)} KB` : `${step.payloadBytes} B`}` : '';
  const topics = step.topics && step.topics > 1 ? ` over ${step.topics} topics` : '';
  return `${step.subscribers} subs × ${step.rate}/s${size}${topics}`;
}
