import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
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
  /** Wraps the socket's `send` so frames carrying a placeholder go out with the serialized result instead. */
  attach(socket: WebSocket): void;
  /** The constant start of subscription `id`'s `next` frames, encoded once per subscription. */
  head(id: string): Buffer;
  /**
   * A whole `next` frame, as graphql-ws would write it, for results delivered without graphql-ws (direct
   * delivery): the result, with its errors classified, is encoded to UTF-8 once per result and copied in
   * behind the subscription's head, so per subscriber it costs a copy, not a serialization or an encoding.
   */
  nextFrame(head: Buffer, result: ExecutionResult): Buffer;
}

export function createFrameSplicer(): FrameSplicer {
  const json = new WeakMap<ExecutionResult, string>();
  const encoded = new WeakMap<ExecutionResult, Buffer>();
  /** The last result encoded: in a direct fan-out every subscriber of an operation sends it in turn. */
  let lastResult: ExecutionResult | undefined;
  let lastBody: Buffer | undefined;
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
      (socket as unknown as { send: (data: unknown, ...rest: unknown[]) => void }).send = (data, ...rest) => send(splice(data), ...rest);
    },
    head(id) {
      return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    },
    nextFrame(head, result) {
      let body = lastResult === result ? lastBody : encoded.get(result);
      if (body === undefined) encoded.set(result, (body = Buffer.from(jsonOf(classifyResult(result)))));
      lastResult = result;
      lastBody = body;
      const frame = Buffer.allocUnsafe(head.length + body.length + 1);
      head.copy(frame, 0);
      body.copy(frame, head.length);
      frame[frame.length - 1] = 0x7d; // }
      return frame;
    },
  };
}
