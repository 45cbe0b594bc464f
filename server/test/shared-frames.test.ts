/**
 * A shared result is serialized once and spliced into each subscriber's `next` frame (pure units), and direct
 * frames reach real sockets on 127.0.0.1 intact, also when a socket queues them.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
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

  it('should build direct frames byte for byte as graphql-ws would, errors classified, for any id and text', async () => {
    const { server, client } = await socketPair();
    const frames = createFrameSplicer();
    const result: ExecutionResult = {
      data: { t: { note: 'naïve — ✓ "quoted" }' } },
      errors: [new GraphQLError('cannot resume', { extensions: { code: 'HISTORY_GAP' } })],
    };
    const ids = ['1', '2', 'sub-"7"', 'ünï', 'x'];
    const received = messages(client, ids.length);
    for (const id of ids) frames.sendNext(server, frames.head(id), result);
    expect(await received).toEqual(ids.map((id) => nextFrame(id, { ...result, errors: result.errors!.map((e) => e.toJSON()) })));
  });

  it('should deliver every direct frame intact to a socket that queues them while others reuse the scratch buffer', async () => {
    const slow = await socketPair();
    const fast = await socketPair();
    const frames = createFrameSplicer();
    const events = 300;
    // 300 × 50 KB: far more than the kernel's socket buffers hold for a client that does not read.
    const resultOf = (n: number): ExecutionResult => ({ data: { t: { n, pad: String.fromCharCode(97 + (n % 26)).repeat(50_000) } } });
    slow.client.pause();
    const slowReceived = messages(slow.client, events);
    const fastReceived = messages(fast.client, events);
    let queued = false;
    for (let n = 0; n < events; n += 1) {
      const result = resultOf(n);
      frames.sendNext(slow.server, frames.head('slow'), result);
      frames.sendNext(fast.server, frames.head('fast'), result);
      queued ||= slow.server.bufferedAmount > 0;
      if (n % 20 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the fast one's bytes flow
    }
    expect(queued).toBe(true); // the slow socket did queue frames, so the queued path was taken
    slow.client.resume();
    const expected = Array.from({ length: events }, (_, n) => resultOf(n));
    expect((await fastReceived).map((m) => JSON.parse(m).payload)).toEqual(expected);
    expect((await slowReceived).map((m) => JSON.parse(m).payload)).toEqual(expected);
  });
});

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A real ws server and client on 127.0.0.1: the server side of the connection, and the client. */
async function socketPair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  clients.push(client);
  const [[server]] = await Promise.all([accepted, once(client, 'open')]);
  return { server, client };
}

/** The next `count` text messages a client receives. */
function messages(client: WebSocket, count: number): Promise<string[]> {
  const received: string[] = [];
  return new Promise((resolve) => {
    client.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false);
      received.push(data.toString());
      if (received.length === count) resolve(received);
    });
  });
}
