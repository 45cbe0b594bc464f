/**
 * What crosses the wire in a fan-out run, defined once for every peer: the event payload, how a
 * subscriber speaks to each server, and how the publisher hands it an event.
 */

/** How subscribers connect and subscribe. */
export type WireSpec =
  /** A plain WebSocket: every text frame is an event. */
  | { kind: 'plain'; url: string }
  /**
   * graphql-ws (`graphql-transport-ws`): connection_init with params, then one subscribe operation. With
   * `resume`, the query takes `$after: String` and selects `cursor`: a client that reconnects passes the cursor
   * of the last event it got (ours only; the peers have no resume).
   */
  | { kind: 'graphql-ws'; url: string; query: string; connectionParams: Record<string, unknown>; resume?: boolean }
  /** Socket.IO (Engine.IO v4 over WebSocket only): connect to `/`, emit `join` with the room name. */
  | { kind: 'socketio'; url: string; room: string };

/** How the publisher hands the server one event (an HTTP POST on a keep-alive connection). */
export type PublishSpec =
  /** The body is the event data as JSON. */
  | { kind: 'rest'; url: string }
  /** The body is `{ query, variables: { ...variables, data } }`; a response with `"errors"` counts as failed. */
  | { kind: 'graphql'; url: string; query: string; headers: Record<string, string>; variables?: Record<string, unknown> }
  /** Ours' `POST /v1/publish`: the body is `{ ...fields, data }` (topic, subject); only a 200 counts. */
  | { kind: 'publish-api'; url: string; headers: Record<string, string>; fields: Record<string, unknown> };

/** The body and headers of one publish request for `spec`. */
export function publishRequest(spec: PublishSpec, data: unknown): { body: string; headers: Record<string, string> } {
  if (spec.kind === 'rest') return { body: JSON.stringify(data), headers: { 'content-type': 'application/json' } };
  const body = spec.kind === 'graphql' ? JSON.stringify({ query: spec.query, variables: { ...spec.variables, data } }) : JSON.stringify({ ...spec.fields, data });
  return { body, headers: { 'content-type': 'application/json', ...spec.headers } };
}

/** Whether the answer to a publish request says it was published. */
export const publishSucceeded = (spec: PublishSpec, status: number, text: string): boolean =>
  status === 200 && !(spec.kind === 'graphql' && text.includes('"errors"'));

/**
 * How events and subscribers map to channels (a peer's topic, room or channel; channels are numbered from 0),
 * shared by the publisher (where event `seq` goes), the subscriber process (what each client holds) and the rig
 * (how many deliveries an event owes).
 * - `topics`: subscriber i holds channel i mod `topics`; event seq goes to channel seq mod `topics`.
 * - `groups`: channels 0 … clients−1 are personal, then one per group of `groupSize` clients; client i holds
 *   its personal channel i and its group's channel; even seqs are personal events (round-robin over the
 *   clients), odd seqs group events (round-robin over the groups): half the events by count each.
 */
export type Layout = { kind: 'topics'; topics: number } | { kind: 'groups'; clients: number; groupSize: number };

const groupCount = (layout: { clients: number; groupSize: number }): number => Math.ceil(layout.clients / layout.groupSize);

/** How many channels the layout has. */
export const channelCount = (layout: Layout): number => (layout.kind === 'topics' ? layout.topics : layout.clients + groupCount(layout));

/** The channel event `seq` is published on. */
export function channelOfEvent(layout: Layout, seq: number): number {
  if (layout.kind === 'topics') return seq % layout.topics;
  const turn = Math.floor(seq / 2);
  return seq % 2 === 0 ? turn % layout.clients : layout.clients + (turn % groupCount(layout));
}

/** The channels client `index` subscribes to, on one socket. */
export const channelsOfClient = (layout: Layout, index: number): number[] =>
  layout.kind === 'topics' ? [index % layout.topics] : [index, layout.clients + Math.floor(index / layout.groupSize)];

/** How many events in a row reach every channel at least once (readiness probes). */
export const eventsCoveringAllChannels = (layout: Layout): number => (layout.kind === 'topics' ? layout.topics : 2 * Math.max(layout.clients, groupCount(layout)));

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

/**
 * A step's label: `1000 subs × 25/s`, with the payload size when it is not the default 300 B; `1000 clients × 200/s`
 * in the groups layout (each client holds two subscriptions).
 */
export function stepLabel(step: { subscribers: number; rate: number; payloadBytes?: number | undefined; topics?: number | undefined; groups?: boolean | undefined }): string {
  const size = step.payloadBytes && step.payloadBytes !== PAYLOAD_BYTES ? ` × ${step.payloadBytes >= 1024 ? `${Math.round(step.payloadBytes / 1024)} KB` : `${step.payloadBytes} B`}` : '';
  const topics = step.topics && step.topics > 1 ? ` over ${step.topics} topics` : '';
  return `${step.subscribers} ${step.groups ? 'clients' : 'subs'} × ${step.rate}/s${size}${topics}`;
}
