/**
 * A shared result is serialized once and spliced into each subscriber's `next` frame (pure units), and direct
 * frames reach real sockets on 127.0.0.1 intact, also when a socket queues them.
 */
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { createFrameSplicer, writeTextFrameHeader } from '../src/ws/shared-frames.js';

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

  it('should encode frame lengths at every boundary of the WebSocket length field', () => {
    const header = (length: number): number[] => {
      const frame = Buffer.alloc(10);
      return [...frame.subarray(0, writeTextFrameHeader(frame, length))];
    };
    expect(header(0)).toEqual([0x81, 0]);
    expect(header(125)).toEqual([0x81, 125]);
    expect(header(126)).toEqual([0x81, 126, 0, 126]);
    expect(header(65535)).toEqual([0x81, 126, 0xff, 0xff]);
    expect(header(65536)).toEqual([0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(header(2 ** 32 + 5)).toEqual([0x81, 127, 0, 0, 0, 1, 0, 0, 0, 5]);
  });

  it('should deliver direct frames of every length encoding intact and in order with the socket’s other frames', async () => {
    const { server, client } = await socketPair();
    const frames = createFrameSplicer();
    const head = frames.head('1');
    // Frame payloads of exactly 125, 126, 65535 and 65536 bytes, and some around them: `{"data":{"p":"…"}}` is 17
    // bytes around the padding, plus the head and the closing brace.
    const around = head.length + 17 + 1;
    const sizes = [60, 124, 125, 126, 127, 65534, 65535, 65536, 65537, 200_000].map((total) => Math.max(0, total - around));
    const received = messages(client, sizes.length * 2);
    const expected: string[] = [];
    for (const [n, pad] of sizes.entries()) {
      const result: ExecutionResult = { data: { p: 'x'.repeat(pad) } };
      frames.sendNext(server, head, result);
      expected.push(nextFrame('1', result));
      // A frame ws writes itself (graphql-ws's `complete`, a ping's reply) in between: it must stay in place.
      server.send(`{"id":"1","type":"ping","n":${n}}`);
      expected.push(`{"id":"1","type":"ping","n":${n}}`);
    }
    const got = await received;
    expect(got.filter((_, i) => i % 2 === 0).map((m) => Buffer.byteLength(m))).toEqual(sizes.map((pad) => pad + around));
    expect(got).toEqual(expected);
  });

  it('should leave frames to ws, compressed and in order, when the connection negotiated compression', async () => {
    const { server, client } = await socketPair({ perMessageDeflate: { threshold: 0 } });
    expect(server.extensions).toContain('permessage-deflate');
    const frames = createFrameSplicer();
    const results = Array.from({ length: 50 }, (_, n): ExecutionResult => ({ data: { n, pad: 'z'.repeat(n * 100) } }));
    const alone = results.slice(0, 25);
    const interleaved = results.slice(25);
    const received = messages(client, alone.length + interleaved.length * 2);
    // Direct frames with ws idle in between: written by ws all the same, so that they are compressed.
    for (const result of alone) frames.sendNext(server, frames.head('c'), result);
    for (const [n, result] of interleaved.entries()) {
      // ws compresses asynchronously: a frame written past it would overtake the compressed one and corrupt the stream.
      server.send(`{"n":${n}}`);
      frames.sendNext(server, frames.head('c'), result);
    }
    expect(await received).toEqual([
      ...alone.map((result) => nextFrame('c', result)),
      ...interleaved.flatMap((result, n) => [`{"n":${n}}`, nextFrame('c', result)]),
    ]);
    // Compressed, as the client asked: far fewer bytes crossed the wire than the frames hold (mostly 'z's).
    const payloadBytes = results.reduce((sum, result) => sum + Buffer.byteLength(nextFrame('c', result)), 0);
    expect((server as unknown as { _socket: Socket })._socket.bytesWritten).toBeLessThan(payloadBytes / 10);
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

  it('should write a batch’s frames to each socket in one write, intact and in order, and compressed ones through ws', async () => {
    const a = await socketPair();
    const b = await socketPair();
    const c = await socketPair({ perMessageDeflate: { threshold: 0 } });
    const frames = createFrameSplicer();
    // Small, past 125 bytes and past 65,535 bytes: every header size, in one write; and over a megabyte in all,
    // more than the scratch buffer kept between batches.
    const results: ExecutionResult[] = [
      { data: { n: 1 } },
      { data: { n: 2, pad: 'y'.repeat(300) } },
      { data: { n: 3, pad: 'q'.repeat(70_000) } },
      { data: { n: 4, pad: 'r'.repeat(1_100_000) } },
    ];
    const writes = { a: 0, b: 0 };
    for (const [name, pair] of [['a', a], ['b', b]] as const) {
      const raw = (pair.server as unknown as { _socket: Socket })._socket;
      const write = raw.write.bind(raw) as (...args: unknown[]) => boolean;
      raw.write = ((...args: unknown[]) => {
        writes[name] += 1;
        return write(...args);
      }) as typeof raw.write;
    }
    const got = { a: messages(a.client, 4), b: messages(b.client, 8), c: messages(c.client, 4) };
    frames.beginBatch();
    for (const result of results) {
      frames.sendNext(a.server, frames.head('a'), result);
      frames.sendNext(b.server, frames.head('b1'), result); // two subscriptions on one socket
      frames.sendNext(b.server, frames.head('b2'), result);
      frames.sendNext(c.server, frames.head('c'), result);
    }
    expect(writes).toEqual({ a: 0, b: 0 }); // gathered, nothing written yet
    frames.endBatch();
    expect(writes).toEqual({ a: 1, b: 1 });
    expect(await got.a).toEqual(results.map((r) => nextFrame('a', r)));
    expect(await got.b).toEqual(results.flatMap((r) => [nextFrame('b1', r), nextFrame('b2', r)]));
    expect(await got.c).toEqual(results.map((r) => nextFrame('c', r)));
    // After the batch, frames are written one by one again.
    const after = messages(a.client, 1);
    frames.sendNext(a.server, frames.head('a'), { data: { n: 4 } });
    expect(writes.a).toBe(2);
    expect(await after).toEqual([nextFrame('a', { data: { n: 4 } })]);
  });

  it('should write what a batch gathered before a frame ws sends in the middle of it, and nothing after a close', async () => {
    const open = await socketPair();
    const closing = await socketPair();
    const frames = createFrameSplicer();
    frames.attach(open.server);
    frames.attach(closing.server);
    const received = messages(open.client, 3);
    const closingReceived: string[] = [];
    closing.client.on('message', (data) => closingReceived.push(data.toString()));
    const closed = once(closing.client, 'close') as Promise<[number, Buffer]>;
    frames.beginBatch();
    frames.sendNext(open.server, frames.head('1'), { data: { n: 1 } });
    frames.sendNext(closing.server, frames.head('x'), { data: { n: 1 } });
    open.server.send('{"type":"ping"}'); // graphql-ws's own frame: after the one gathered before it
    frames.sendNext(open.server, frames.head('1'), { data: { n: 2 } });
    frames.sendNext(closing.server, frames.head('x'), { data: { n: 2 } });
    closing.server.close(4008, 'Slow consumer'); // its close frame is out: no frame may follow it
    const raw = (closing.server as unknown as { _socket: Socket })._socket;
    const writtenAtClose = raw.bytesWritten + raw.writableLength;
    frames.endBatch();
    expect(raw.bytesWritten + raw.writableLength).toBe(writtenAtClose); // not one byte after the close frame
    expect(await received).toEqual([nextFrame('1', { data: { n: 1 } }), '{"type":"ping"}', nextFrame('1', { data: { n: 2 } })]);
    const [code] = await closed;
    expect(code).toBe(4008);
    // The first frame went out with the ping's flush, before the close; the second was gathered after and dropped.
    expect(closingReceived).toEqual([nextFrame('x', { data: { n: 1 } })]);
  });

  it('should write the frames graphql-ws sends in one tick, each awaiting its callback, in one write, and wait for the write past the limit', async () => {
    const { server, client } = await socketPair();
    const frames = createFrameSplicer({ coalesceBytes: 64 * 1024 });
    frames.attach(server);
    const writes = countWrites(server);
    // What graphql-ws does for each result of a subscription (a resume replaying history): send, await the callback.
    const sendAwaited = (data: string): Promise<void> =>
      new Promise((resolve, reject) => server.send(data, (error?: Error) => (error ? reject(error) : resolve())));
    const small = Array.from({ length: 50 }, (_, n): ExecutionResult => ({ data: { n } }));
    const gotSmall = messages(client, small.length);
    for (const result of small) await sendAwaited(nextFrame('1', frames.placeholder(result)));
    expect(await gotSmall).toEqual(small.map((r) => nextFrame('1', r)));
    expect(writes.count).toBe(1);

    // 30 KB frames: three reach the limit; then each write is waited for, so no more than that is ever queued.
    const large = Array.from({ length: 12 }, (_, n): ExecutionResult => ({ data: { n, pad: 'w'.repeat(30_000) } }));
    const gotLarge = messages(client, large.length);
    let mostQueued = 0;
    for (const result of large) {
      const sent = sendAwaited(nextFrame('2', frames.placeholder(result)));
      mostQueued = Math.max(mostQueued, server.bufferedAmount);
      await sent;
    }
    expect(await gotLarge).toEqual(large.map((r) => nextFrame('2', r)));
    expect(mostQueued).toBeLessThan(64 * 1024 + 31_000);
    expect(writes.count - 1).toBeGreaterThanOrEqual(4);
    expect(writes.count - 1).toBeLessThan(large.length);
  });

  it('should still hold graphql-ws back when the client does not read', async () => {
    const { server, client } = await socketPair();
    const frames = createFrameSplicer({ coalesceBytes: 64 * 1024 });
    frames.attach(server);
    const results = Array.from({ length: 300 }, (_, n): ExecutionResult => ({ data: { n, pad: 'v'.repeat(50_000) } }));
    client.pause();
    const received = messages(client, results.length);
    let sent = 0;
    const sending = (async () => {
      for (const result of results) {
        await new Promise<void>((resolve, reject) => server.send(nextFrame('1', frames.placeholder(result)), (error?: Error) => (error ? reject(error) : resolve())));
        sent += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 15 MB offered; the kernel's buffers and one coalesced write's worth are all that left the loop.
    expect(sent).toBeLessThan(results.length);
    expect(server.bufferedAmount).toBeLessThan(1024 * 1024);
    client.resume();
    await sending;
    expect((await received).map((m) => JSON.parse(m).payload)).toEqual(results);
  });
});

/** Counts the writes (system calls, one per `write` or corked `writev`) Node makes on a ws socket's TCP socket. */
function countWrites(socket: WebSocket): { count: number } {
  const raw = (socket as unknown as { _socket: Socket & { _writeGeneric?: (...args: unknown[]) => unknown } })._socket;
  const writeGeneric = raw._writeGeneric;
  if (typeof writeGeneric !== 'function') throw new Error('net.Socket#_writeGeneric is gone: count writes another way');
  const counter = { count: 0 };
  raw._writeGeneric = (...args: unknown[]) => {
    counter.count += 1;
    return writeGeneric.apply(raw, args);
  };
  return counter;
}

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A real ws server and client on 127.0.0.1: the server side of the connection, and the client. */
async function socketPair(options: { perMessageDeflate?: { threshold: number } } = {}): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(wss);
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, options);
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
