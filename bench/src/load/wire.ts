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

/** Pad length: the data is 300 bytes with a 6-digit seq and a 17-character sentAt; shorter numbers make it a few bytes less. */
export const PAD_LENGTH = PAYLOAD_BYTES - JSON.stringify({ seq: 100_000, sentAt: 1_764_277_083_123.456, pad: '' }).length;
const PAD = 'x'.repeat(PAD_LENGTH);

/** The same clock in every process of the machine: wall time with the monotonic clock's resolution. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export function makeTick(seq: number): Tick {
  return { seq, sentAt: nowMs(), pad: PAD };
}
