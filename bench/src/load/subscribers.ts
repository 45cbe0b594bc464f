/**
 * The subscriber load generator, forked by the scenario (one process, pinned to its own core). It opens
 * many WebSockets speaking one peer's protocol and records, per delivered event, the latency from the
 * publisher's `sentAt` to the moment the frame is handled here.
 *
 * The hot path does not JSON.parse events: it finds `"seq":` and `"sentAt":` in the frame's bytes, the same way
 * for every peer, so the generator costs the same whatever server it measures (and as little as it can: its
 * time is part of every latency). One event in 64 is checked in full, so a peer that sends something else is caught.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { serveRpc } from '../support/rpc.js';
import { PAD_LENGTH, nowMs, padLength, type WireSpec } from './wire.js';

interface Subscriber {
  socket: WebSocket;
  open: boolean;
  gotData: boolean;
  lastSeq: number;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface StepReport {
  subscribersAtStart: number;
  openAtEnd: number;
  /** Deliveries of events of this step (warm-up included). */
  stepDelivered: number;
  /** Deliveries of events in the measured window. */
  windowDelivered: number;
  /** Events of the window that reached every subscriber open at the step's start. */
  eventsFullyDelivered: number;
  perSubscriberMin: number;
  perSubscriberMax: number;
  /** A subscriber received the same event of the window again (not counted as delivered twice). */
  duplicates: number;
  /** A subscriber received an event after one published later (publishes overlap in flight, so their order may differ from seq order). */
  reordered: number;
  /** Deliveries of events from before the step (a backlog from the previous one). */
  stale: number;
  /** Negative latencies (clock resolution), recorded as zero. */
  clampedNegative: number;
  malformed: number;
  latency: LatencySummary;
  /** The latency histogram of the window, HdrHistogram compressed base64, in microseconds. */
  histogram: string;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  closes: Record<string, number>;
  errors: number;
  errorSamples: string[];
}

const subscribers: Subscriber[] = [];
/** Topics the subscribers are spread over, and how many open subscribers each had at the step's start. */
let topicCount = 1;
let audience: number[] = [0];
/** The pad length of this step's events (their size is part of the step's plan). */
let expectedPad = PAD_LENGTH;
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

let stepActive = false;
let stepFrom = 0;
let windowFrom = 0;
let windowTo = 0;
let subscribersAtStart = 0;
let stepDelivered = 0;
let windowDelivered = 0;
let duplicates = 0;
let reordered = 0;
let stale = 0;
let clampedNegative = 0;
let malformed = 0;
let perSeq = new Int32Array(0);
let perSubscriber = new Int32Array(0);
/** One byte per subscriber and window event: seen. */
let seen = new Uint8Array(0);
let lastDataAt = 0;
let checkCounter = 0;
const closes = new Map<string, number>();
let errors = 0;
const errorSamples: string[] = [];

function noteError(text: string): void {
  errors += 1;
  if (errorSamples.length < 8) errorSamples.push(text.slice(0, 300));
}

/** Checks one event in full: the data must be what the publisher sent. */
function checkEvent(text: string): void {
  const match = /\{"seq":\d+,"sentAt":\d+(\.\d+)?,"pad":"(x+)"\}/.exec(text);
  if (match?.[2]?.length !== expectedPad) {
    malformed += 1;
    noteError(`malformed event: ${text}`);
  }
}

const SEQ = Buffer.from('"seq":');
const SENT_AT = Buffer.from('"sentAt":');

/** Reads an unsigned integer written in ASCII at `at`; -1 when there is none. */
function readInteger(data: Buffer, at: number): number {
  let value = -1;
  for (let i = at; i < data.length; i++) {
    const digit = (data[i] ?? 0) - 48;
    if (digit < 0 || digit > 9) break;
    value = (value < 0 ? 0 : value * 10) + digit;
  }
  return value;
}

/** Handles one event frame, read straight from the frame's bytes (no string of the whole frame). */
function onEvent(index: number, subscriber: Subscriber, data: Buffer, seqAt: number): void {
  const receivedAt = nowMs();
  const seq = readInteger(data, seqAt + SEQ.length);
  const sentAtAt = data.indexOf(SENT_AT, seqAt);
  const sentAt = sentAtAt < 0 ? Number.NaN : parseFloat(data.toString('latin1', sentAtAt + SENT_AT.length, sentAtAt + SENT_AT.length + 24));
  if (seq < 0 || !Number.isFinite(sentAt)) {
    malformed += 1;
    noteError(`unreadable event: ${data.toString('utf8')}`);
    return;
  }
  if ((checkCounter++ & 63) === 0) checkEvent(data.toString('utf8'));
  subscriber.gotData = true;
  lastDataAt = receivedAt;
  const previous = subscriber.lastSeq;
  subscriber.lastSeq = seq;
  if (!stepActive) return;
  if (seq < stepFrom) {
    stale += 1;
    return;
  }
  if (seq < windowFrom || seq >= windowTo) {
    stepDelivered += 1;
    return;
  }
  const slot = index * (windowTo - windowFrom) + (seq - windowFrom);
  if (index >= perSubscriber.length || seen[slot] === 1) {
    duplicates += 1;
    return;
  }
  seen[slot] = 1;
  if (seq < previous) reordered += 1;
  stepDelivered += 1;
  windowDelivered += 1;
  perSeq[seq - windowFrom] = (perSeq[seq - windowFrom] ?? 0) + 1;
  perSubscriber[index] = (perSubscriber[index] ?? 0) + 1;
  let micros = Math.round((receivedAt - sentAt) * 1000);
  if (micros < 0) {
    clampedNegative += 1;
    micros = 0;
  }
  histogram.recordValue(micros);
}

type Handler = (text: string) => void;

/** Opens one subscriber; resolves once its subscription request is on the wire. */
function openSubscriber(index: number, wire: WireSpec, timeoutMs = 20_000): Promise<void> {
  const url = wire.kind === 'socketio' ? `${wire.url}/socket.io/?EIO=4&transport=websocket` : wire.url;
  const socket = new WebSocket(url, wire.kind === 'graphql-ws' ? ['graphql-transport-ws'] : [], {
    perMessageDeflate: false,
    // Every frame is checked by hand (1 in 64 in full); ws need not validate UTF-8 on top, for every peer alike.
    skipUTF8Validation: true,
    handshakeTimeout: timeoutMs,
  });
  const subscriber: Subscriber = { socket, open: false, gotData: false, lastSeq: -1 };
  subscribers[index] = subscriber;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => {
      settle(new Error('subscribe timed out'));
      socket.terminate();
    }, timeoutMs);
    const send = (text: string): void => socket.send(text);

    let control: Handler;
    if (wire.kind === 'plain') {
      control = (text) => noteError(`unexpected frame: ${text}`);
    } else if (wire.kind === 'graphql-ws') {
      control = (text) => {
        let message: { type?: string; payload?: unknown };
        try {
          message = JSON.parse(text) as typeof message;
        } catch {
          noteError(`not JSON: ${text}`);
          return;
        }
        if (message.type === 'connection_ack') {
          send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: wire.query } }));
          subscriber.open = true;
          settle();
        } else if (message.type === 'ping') {
          send('{"type":"pong"}');
        } else if (message.type === 'error' || message.type === 'complete') {
          // The operation ended while the socket stays open: this subscriber gets nothing more.
          subscriber.open = false;
          closes.set(`operation ${message.type}`, (closes.get(`operation ${message.type}`) ?? 0) + 1);
          noteError(text);
        } else if (message.type !== 'pong') {
          noteError(text);
        }
      };
    } else {
      control = (text) => {
        if (text === '2') send('3');
        else if (text.startsWith('0{')) send('40');
        else if (text.startsWith('40')) {
          send(`42["join",${JSON.stringify(wire.room)}]`);
          subscriber.open = true;
          settle();
        } else noteError(text);
      };
    }

    socket.on('open', () => {
      if (wire.kind === 'plain') {
        subscriber.open = true;
        settle();
      } else if (wire.kind === 'graphql-ws') {
        send(JSON.stringify({ type: 'connection_init', payload: wire.connectionParams }));
      }
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const seqAt = isBinary ? -1 : data.indexOf(SEQ);
      if (seqAt >= 0) onEvent(index, subscriber, data, seqAt);
      else control(isBinary ? '' : data.toString('utf8'));
    });
    socket.on('error', (error) => {
      noteError(`socket error: ${error.message}`);
      settle(error);
    });
    socket.on('close', (code) => {
      subscriber.open = false;
      closes.set(String(code), (closes.get(String(code)) ?? 0) + 1);
      settle(new Error(`closed with ${code} while subscribing`));
    });
  });
}

const openCount = (): number => subscribers.reduce((n, s) => n + (s.open ? 1 : 0), 0);

function latencySummary(): LatencySummary {
  const ms = (micros: number): number => Math.round(micros) / 1000;
  return {
    count: histogram.totalCount,
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p90Ms: ms(histogram.getValueAtPercentile(90)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
  };
}

const methods = {
  /**
   * Opens `count` more subscribers, `concurrency` at a time. With several wires (one per topic), subscriber
   * `i` takes `wire[i % wire.length]`: topic t has the subscribers whose index is t modulo the topic count.
   */
  async connect(params: { wire: WireSpec | WireSpec[]; count: number; concurrency?: number }) {
    const wires = Array.isArray(params.wire) ? params.wire : [params.wire];
    topicCount = wires.length;
    const started = performance.now();
    const first = subscribers.length;
    let nextIndex = first;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (nextIndex < first + params.count) {
        const index = nextIndex++;
        await openSubscriber(index, wires[index % wires.length] as WireSpec).catch((error: Error) => {
          failed += 1;
          noteError(`connect: ${error.message}`);
        });
      }
    };
    await Promise.all(Array.from({ length: params.concurrency ?? 50 }, worker));
    return { open: openCount(), failed, ms: Math.round(performance.now() - started) };
  },
  /** How many open subscribers have received at least one event (their subscription is live). */
  readiness() {
    return { open: openCount(), withData: subscribers.reduce((n, s) => n + (s.open && s.gotData ? 1 : 0), 0) };
  },
  /** Starts counting a step: events with seq ≥ stepFrom belong to it; [windowFrom, windowTo) are measured. */
  startStep(params: { stepFrom: number; windowFrom: number; windowTo: number; payloadBytes?: number }) {
    ({ stepFrom, windowFrom, windowTo } = params);
    expectedPad = params.payloadBytes === undefined ? PAD_LENGTH : padLength(params.payloadBytes);
    stepActive = true;
    subscribersAtStart = openCount();
    // Event seq goes to topic seq % topicCount (the publisher's rule): who should receive it.
    audience = Array.from({ length: topicCount }, (_, t) => subscribers.reduce((n, s, i) => n + (s.open && i % topicCount === t ? 1 : 0), 0));
    stepDelivered = windowDelivered = duplicates = reordered = stale = clampedNegative = malformed = errors = 0;
    errorSamples.length = 0;
    closes.clear();
    perSeq = new Int32Array(windowTo - windowFrom);
    perSubscriber = new Int32Array(subscribers.length);
    seen = new Uint8Array(subscribers.length * (windowTo - windowFrom));
    histogram.reset();
    loopDelay.reset();
    return { subscribersAtStart, audience };
  },
  progress() {
    // Not Infinity before the first event: IPC is JSON, and Infinity would arrive as null.
    return { stepDelivered, windowDelivered, msSinceLastData: lastDataAt === 0 ? Number.MAX_SAFE_INTEGER : nowMs() - lastDataAt };
  },
  report(): StepReport {
    stepActive = false;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < perSubscriber.length; i++) {
      if (!subscribers[i]?.open && (perSubscriber[i] ?? 0) === 0) continue;
      min = Math.min(min, perSubscriber[i] ?? 0);
      max = Math.max(max, perSubscriber[i] ?? 0);
    }
    return {
      subscribersAtStart,
      openAtEnd: openCount(),
      stepDelivered,
      windowDelivered,
      eventsFullyDelivered: perSeq.reduce((n, c, i) => n + (c >= (audience[(windowFrom + i) % topicCount] ?? 0) ? 1 : 0), 0),
      perSubscriberMin: min === Infinity ? 0 : min,
      perSubscriberMax: max,
      duplicates,
      reordered,
      stale,
      clampedNegative,
      malformed,
      latency: latencySummary(),
      histogram: hdr.encodeIntoCompressedBase64(histogram),
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      eventLoopDelayMaxMs: loopDelay.max / 1e6,
      closes: Object.fromEntries(closes),
      errors,
      errorSamples: [...errorSamples],
    };
  },
  /** Closes every socket at once. */
  close() {
    for (const subscriber of subscribers) subscriber.socket.terminate();
    subscribers.length = 0;
    return { closed: true };
  },
};

export type SubscriberMethods = typeof methods;

serveRpc(methods);
