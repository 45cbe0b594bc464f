import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import { WebSocket } from 'ws';
import { createTickCorks } from '@realtime/core';
import { classifyResult } from '../plugins/use-error-codes.js';

/**
 * Serialize once per result, not once per subscriber.
 *
 * graphql-ws builds every `next` frame as `JSON.stringify({ id, type: 'next', payload })`, so a result shared
 * by a thousand subscribers (see shared-execution.ts) was serialized a thousand times. Instead, `onNext` hands
 * graphql-ws a placeholder payload `{"\u0000rt": <token>}` and keeps the result's JSON (made once per result
 * object, cached in a WeakMap) under that token; the socket's `send` swaps the placeholder for the JSON. A NUL
 * character never appears in a GraphQL result's top-level keys (`data`, `errors`, `extensions`), and the
 * placeholder is only looked for at the very end of a `next` frame, where graphql-ws puts the payload, so
 * nothing a client sends or an event carries can be mistaken for it.
 */
const PLACEHOLDER_KEY = '\u0000rt';
/** How the placeholder's key appears inside the serialized frame. */
const MARK = `"payload":{${JSON.stringify(PLACEHOLDER_KEY)}:`;

export interface FrameSplicer {
  /** The payload to return from graphql-ws's `onNext`: a placeholder that `send` replaces with the result's JSON. */
  placeholder(result: ExecutionResult): Record<string, number>;
  /**
   * Wraps the socket's `send` so frames carrying a placeholder go out with the serialized result instead, and so
   * that the frames sent to a socket in one tick leave in one write (see FrameSplicerOptions.coalesceBytes).
   */
  attach(socket: WebSocket): void;
  /** The constant start of subscription `id`'s `next` frames, encoded once per subscription. */
  head(id: string): Buffer;
  /**
   * Writes a whole `next` frame, as graphql-ws would write it, for results delivered without graphql-ws (direct
   * delivery): the result, with its errors classified, is encoded to UTF-8 once per result and copied in
   * behind the subscription's head, so per subscriber it costs a copy, not a serialization or an encoding.
   * Where ws allows it (see rawWriter), the WebSocket frame header goes in front and the frame is written to the
   * TCP socket in one piece.
   *
   * The copy goes into one scratch buffer reused from subscriber to subscriber whenever the socket had nothing
   * queued and took the whole frame at once (the kernel has the bytes; nothing references the buffer any more).
   * A frame per subscriber would be garbage the moment it is written: above 4 KB each is an allocation of its own
   * outside V8's heap, and a fan-out of 10 KB events made V8 run full collections over and over. A socket with
   * data queued gets a frame of its own, and one that queues part of the scratch keeps it (the next frame goes to
   * a new scratch), so a slow consumer never holds more than its own bytes plus one scratch.
   */
  sendNext(socket: WebSocket, head: Buffer, result: ExecutionResult): void;
  /**
   * From here to the matching `endBatch` (they nest), `sendNext` gathers its frames instead of writing them, and
   * `endBatch` writes each socket's frames together, in order: where the frames may be written directly (see
   * rawWriter), one `write` for all of them. Events that reach the process together (the backlog after a stall,
   * a burst) then cost each socket one system call instead of one per event; the system call is most of a
   * delivery's cost. A frame ws writes itself through the `send` that `attach` wraps first writes everything
   * gathered, so frames keep their order on every socket.
   */
  beginBatch(): void;
  endBatch(): void;
}

export interface FrameSplicerOptions {
  /**
   * A gathered frame could not be written when its batch ended (a direct write's own failure is thrown to the
   * caller of `sendNext`). @default closes the socket with 1011
   */
  onWriteError?: (socket: WebSocket, error: unknown) => void;
  /**
   * Frames sent through an attached socket's `send` in one tick are held (the TCP socket corked) and written
   * together when the tick is over, while less than this many bytes are queued for the socket. graphql-ws waits
   * for each send's callback before it sends the next result, so a resume replaying history wrote one frame per
   * system call; while the socket is under this limit the callback is called as soon as the frame is queued, and
   * a replayed batch leaves in one write. Past the limit the socket is written at once and the callback waits
   * for the write as before, so a client that does not read still holds graphql-ws back (and is closed as a slow
   * consumer). Keep it well under the slow-consumer limit. 0 turns coalescing off. @default 65536
   */
  coalesceBytes?: number;
}

/**
 * ws's own send, for direct delivery to a socket that cannot take a whole frame written by us (see rawWriter):
 * a frame built whole needs none of the splicing wrapper `attach` installs for graphql-ws's frames.
 */
const sendFrame = WebSocket.prototype.send as (this: WebSocket, data: Buffer, options: { binary: boolean }) => void;
const TEXT_FRAME = Object.freeze({ binary: false });
/** The smallest scratch buffer; it grows to the largest frame sent. */
const SCRATCH_MIN_BYTES = 16 * 1024;
/**
 * The largest scratch buffer kept: a batch's frames for one socket (see beginBatch) can add up to far more than
 * any one frame, and a buffer that size is not worth holding on to between batches.
 */
const SCRATCH_MAX_BYTES = 1024 * 1024;
/** The most a WebSocket frame header takes for an unmasked server frame (2 bytes + a 64-bit length). */
const MAX_HEADER_BYTES = 10;

/** The parts of a ws `WebSocket` (ws 8) that writing a whole frame ourselves relies on. */
interface WsInternals {
  _socket: Socket | null;
  _sender: { _state: unknown } | null;
  _extensions: Record<string, unknown>;
}

/**
 * The TCP socket under `socket`, when frames may be written to it directly; undefined when only ws may write.
 *
 * ws sends a text message as two writes (its 2–10 byte header, then the data) corked into one `writev`, through
 * Node's stream buffering; written as one Buffer the same frame costs one plain `write` (about 2 µs less CPU per
 * frame, 15 % of a delivery). That is safe only where ws itself would put the frame on the wire at once and
 * unchanged: no extension negotiated (permessage-deflate would compress, and queue behind a compression in
 * progress), and its sender idle (`_state` 0: nothing queued behind a compression or a Blob read). Anything else,
 * or a ws without these fields, goes through ws's own send. ws's later writes (pings, close, graphql-ws's frames)
 * go to the same socket after ours, so the order of frames is kept.
 */
function rawWriter(socket: WebSocket): Socket | undefined {
  const internals = socket as unknown as Partial<WsInternals>;
  const raw = internals._socket;
  const sender = internals._sender;
  if (!raw || typeof raw.write !== 'function' || !sender || sender._state !== 0) return undefined;
  const extensions = internals._extensions;
  if (!extensions) return undefined;
  for (const _name in extensions) return undefined; // an extension was negotiated (no array allocated per frame)
  return raw;
}

/** Writes the header of an unmasked, final text frame of `length` payload bytes into `frame` at `at`; its size. */
export function writeTextFrameHeader(frame: Buffer, length: number, at = 0): number {
  frame[at] = 0x81; // FIN + text
  if (length < 126) {
    frame[at + 1] = length;
    return 2;
  }
  if (length < 65536) {
    frame[at + 1] = 126;
    frame.writeUInt16BE(length, at + 2);
    return 4;
  }
  frame[at + 1] = 127;
  frame.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
  frame.writeUInt32BE(length >>> 0, at + 6);
  return 10;
}

/** The size of the header `writeTextFrameHeader` writes for `length` payload bytes. */
const headerBytes = (length: number): number => (length < 126 ? 2 : length < 65536 ? 4 : 10);

export function createFrameSplicer(options: FrameSplicerOptions = {}): FrameSplicer {
  const onWriteError = options.onWriteError ?? ((socket: WebSocket) => socket.close(1011, 'Internal error'));
  const coalesceBytes = options.coalesceBytes ?? 64 * 1024;
  const json = new WeakMap<ExecutionResult, string>();
  const encoded = new WeakMap<ExecutionResult, Buffer>();
  /** The last result encoded: in a direct fan-out every subscriber of an operation sends it in turn. */
  let lastResult: ExecutionResult | undefined;
  let lastBody: Buffer | undefined;
  /** Where frames are built for sockets with nothing queued; see sendNext. */
  let scratch: Buffer | undefined;
  /** The last view of the scratch handed out (a fan-out writes frames of one size in a row: one view for all). */
  let view: Buffer | undefined;
  /**
   * Placeholder token → the JSON it stands for. graphql-ws calls `send` right after `onNext` resolves (also on a
   * socket that closed meanwhile: ws then fails the send, after `splice` ran), so each entry lives for a tick.
   */
  const byToken = new Map<number, string>();
  let nextToken = 0;

  /** A result's JSON, made once per result object (for a spliced frame or a direct one). */
  const jsonOf = (result: ExecutionResult): string => {
    let text = json.get(result);
    if (text === undefined) json.set(result, (text = JSON.stringify(result)));
    return text;
  };

  /** A result's JSON as UTF-8 (errors classified), made once per result object. */
  const bodyOf = (result: ExecutionResult): Buffer => {
    let body = lastResult === result ? lastBody : encoded.get(result);
    if (body === undefined) encoded.set(result, (body = Buffer.from(jsonOf(classifyResult(result)))));
    lastResult = result;
    lastBody = body;
    return body;
  };

  /** The bytes of one `next` frame: its WebSocket header (when written directly), the head, the body and `}`. */
  const frameSize = (head: Buffer, body: Buffer, withHeader: boolean): number => {
    const length = head.length + body.length + 1;
    return (withHeader ? headerBytes(length) : 0) + length;
  };

  /** Puts one frame into `frame` at `at` (see frameSize); returns where it ends. */
  const putFrame = (frame: Buffer, at: number, head: Buffer, body: Buffer, withHeader: boolean): number => {
    const length = head.length + body.length + 1;
    if (withHeader) at += writeTextFrameHeader(frame, length, at);
    // Uint8Array#set, not Buffer#copy: the same copy without copy's argument handling, twice per frame.
    frame.set(head, at);
    frame.set(body, at + head.length);
    frame[at + length - 1] = 0x7d; // }
    return at + length;
  };

  /** Room for `size` bytes: a buffer of the socket's own when it has data queued, else the scratch (see sendNext). */
  const roomFor = (size: number, queued: boolean): Buffer => {
    // Written later (the frame must be its own), or too large to keep as the scratch.
    if (queued || size > SCRATCH_MAX_BYTES) return Buffer.allocUnsafe(size);
    if (scratch === undefined || scratch.length < size) {
      scratch = Buffer.allocUnsafeSlow(Math.max(SCRATCH_MIN_BYTES, size + MAX_HEADER_BYTES));
      view = undefined;
    }
    // The bytes are on the wire when write returns with nothing queued, so one view serves frame after frame.
    if (view === undefined || view.length !== size) view = scratch.subarray(0, size);
    return view;
  };

  /** Writes `[heads[i], bodies[i]]` for each i of `indices` to `socket`, in order. */
  const writeFrames = (socket: WebSocket, heads: readonly Buffer[], bodies: readonly Buffer[], indices: readonly number[]): void => {
    const raw = rawWriter(socket);
    const many = raw !== undefined && indices.length > 1;
    if (!many) {
      // One frame, or frames ws writes itself (each its own message, compressed on its own).
      for (const i of indices) writeFrame(socket, raw, heads[i] as Buffer, bodies[i] as Buffer);
      return;
    }
    let size = 0;
    for (const i of indices) size += frameSize(heads[i] as Buffer, bodies[i] as Buffer, true);
    const queued = socket.bufferedAmount > 0;
    const frames = roomFor(size, queued);
    let at = 0;
    for (const i of indices) at = putFrame(frames, at, heads[i] as Buffer, bodies[i] as Buffer, true);
    raw.write(frames);
    // Part of the scratch is still queued on this socket: leave it to the socket, take a new one next time.
    if (!queued && socket.bufferedAmount > 0) scratch = undefined;
  };

  /** Writes one frame, directly to `raw` when given, else through ws. */
  const writeFrame = (socket: WebSocket, raw: Socket | undefined, head: Buffer, body: Buffer): void => {
    const size = frameSize(head, body, raw !== undefined);
    const queued = socket.bufferedAmount > 0;
    const frame = roomFor(size, queued);
    putFrame(frame, 0, head, body, raw !== undefined);
    if (raw) raw.write(frame);
    else sendFrame.call(socket, frame, TEXT_FRAME);
    if (!queued && socket.bufferedAmount > 0) scratch = undefined;
  };

  /** Frames gathered during a batch (three lists, one entry per frame), and how deep the batches nest. */
  let batchDepth = 0;
  let gatheredSockets: WebSocket[] = [];
  let gatheredHeads: Buffer[] = [];
  let gatheredBodies: Buffer[] = [];

  /** Writes what a batch gathered: each socket's frames together, the sockets in the order of their first frame. */
  const flushGathered = (): void => {
    if (gatheredSockets.length === 0) return;
    const sockets = gatheredSockets;
    const heads = gatheredHeads;
    const bodies = gatheredBodies;
    gatheredSockets = [];
    gatheredHeads = [];
    gatheredBodies = [];
    const bySocket = new Map<WebSocket, number[]>();
    for (let i = 0; i < sockets.length; i += 1) {
      const socket = sockets[i] as WebSocket;
      const indices = bySocket.get(socket);
      if (indices) indices.push(i);
      else bySocket.set(socket, [i]);
    }
    for (const [socket, indices] of bySocket) {
      // Closed meanwhile (a slow consumer's close frame is already out): nothing may follow it.
      if (socket.readyState !== WebSocket.OPEN) continue;
      try {
        writeFrames(socket, heads, bodies, indices);
      } catch (error) {
        onWriteError(socket, error);
      }
    }
  };

  /** TCP sockets corked for the rest of the tick by `send` (see coalesceBytes). */
  const corks = createTickCorks();

  const splice = (data: unknown): unknown => {
    if (typeof data !== 'string' || data.charCodeAt(data.length - 1) !== 125 /* } */) return data;
    const at = data.lastIndexOf(MARK);
    if (at < 0) return data;
    const token = Number(data.slice(at + MARK.length, data.length - 2)); // `…:<token>}}`
    const payload = byToken.get(token);
    if (payload === undefined) return data;
    byToken.delete(token);
    return `${data.slice(0, at)}"payload":${payload}}`;
  };

  return {
    placeholder(result) {
      const text = jsonOf(result);
      nextToken = nextToken === Number.MAX_SAFE_INTEGER ? 1 : nextToken + 1;
      byToken.set(nextToken, text);
      return { [PLACEHOLDER_KEY]: nextToken };
    },
    attach(socket) {
      const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
      (socket as unknown as { send: (data: unknown, ...rest: unknown[]) => void }).send = (data, ...rest) => {
        if (gatheredSockets.length > 0) flushGathered(); // frames gathered before this one go out before it
        const done = rest[rest.length - 1];
        const raw = (socket as unknown as Partial<WsInternals>)._socket;
        if (coalesceBytes <= 0 || typeof done !== 'function' || !raw || socket.readyState !== WebSocket.OPEN) {
          send(splice(data), ...rest);
          return;
        }
        corks.cork(raw);
        // The callback once: early (queued behind the cork), or by ws when the write is over or failed.
        let called = false;
        const callback = (error?: Error): void => {
          if (called) return;
          called = true;
          (done as (error?: Error) => void)(error);
        };
        send(splice(data), ...rest.slice(0, -1), callback);
        if (socket.bufferedAmount < coalesceBytes) callback();
        else corks.uncorkNow(raw); // enough for one write: out now, and graphql-ws waits for it
      };
    },
    head(id) {
      return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    },
    sendNext(socket, head, result) {
      const body = bodyOf(result);
      if (batchDepth > 0) {
        gatheredSockets.push(socket);
        gatheredHeads.push(head);
        gatheredBodies.push(body);
        return;
      }
      writeFrame(socket, rawWriter(socket), head, body);
    },
    beginBatch() {
      batchDepth += 1;
    },
    endBatch() {
      if (batchDepth === 0) return;
      batchDepth -= 1;
      if (batchDepth === 0) flushGathered();
    },
  };
}
