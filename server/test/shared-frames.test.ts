/** A shared result is serialized once and spliced into each subscriber's `next` frame: a pure unit, no I/O. */
import { describe, expect, it } from 'vitest';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { createFrameSplicer } from '../src/ws/shared-frames.js';

/** A stand-in for a ws socket: records what reaches the wire. */
function fakeSocket(): { socket: WebSocket; sent: unknown[] } {
  const sent: unknown[] = [];
  const socket = { send: (data: unknown) => void sent.push(data) } as unknown as WebSocket;
  return { socket, sent };
}

/** What graphql-ws does with onNext's return value. */
const nextFrame = (id: string, payload: unknown): string => JSON.stringify({ id, type: 'next', payload });

describe('shared frames', () => {
  it('should send every subscriber exactly the frame graphql-ws would have built from the result', () => {
    const frames = createFrameSplicer();
    const result: ExecutionResult = { data: { orderUpdated: { id: 'e1', data: { note: 'quote " and }} and "payload":{' } } } };
    const a = fakeSocket();
    const b = fakeSocket();
    frames.attach(a.socket);
    frames.attach(b.socket);
    a.socket.send(nextFrame('1', frames.placeholder(result)));
    b.socket.send(nextFrame('sub-"7"', frames.placeholder(result)));
    expect(a.sent).toEqual([nextFrame('1', result)]);
    expect(b.sent).toEqual([nextFrame('sub-"7"', result)]);
    expect(JSON.parse(b.sent[0] as string)).toEqual({ id: 'sub-"7"', type: 'next', payload: result });
  });

  it('should serialize errors as graphql-ws does (through toJSON)', () => {
    const frames = createFrameSplicer();
    const result: ExecutionResult = { data: null, errors: [new GraphQLError('gone', { extensions: { code: 'HISTORY_GAP' } })] };
    const { socket, sent } = fakeSocket();
    frames.attach(socket);
    socket.send(nextFrame('1', frames.placeholder(result)));
    expect(JSON.parse(sent[0] as string)).toEqual({ id: '1', type: 'next', payload: { data: null, errors: [{ message: 'gone', extensions: { code: 'HISTORY_GAP' } }] } });
  });

  it('should pass other frames through untouched, including ones that merely look like a placeholder', () => {
    const frames = createFrameSplicer();
    const { socket, sent } = fakeSocket();
    frames.attach(socket);
    const lookalike = nextFrame('1', { data: { x: '"payload":{"\\u0000rt":1}}' } });
    const forged = JSON.stringify({ id: '1', type: 'next', payload: { '\u0000rt': 999 } });
    socket.send('{"type":"connection_ack"}');
    socket.send(lookalike);
    socket.send(forged);
    socket.send(Buffer.from('binary'));
    expect(sent).toEqual(['{"type":"connection_ack"}', lookalike, forged, Buffer.from('binary')]);
  });

  it('should build direct frames byte for byte as graphql-ws would, errors classified, for any id and text', () => {
    const frames = createFrameSplicer();
    const result: ExecutionResult = {
      data: { t: { note: 'naïve — ✓ "quoted" }' } },
      errors: [new GraphQLError('cannot resume', { extensions: { code: 'HISTORY_GAP' } })],
    };
    for (const id of ['1', 'sub-"7"', 'ünï']) {
      const frame = frames.nextFrame(frames.head(id), result);
      expect(frame.toString('utf8')).toBe(nextFrame(id, { ...result, errors: result.errors!.map((e) => e.toJSON()) }));
    }
  });
});
