/**
 * The subscriber load generator, forked by the scenario (one process, pinned to its own core). It opens
 * many WebSockets speaking one peer's protocol and records, per delivered event, the latency from the
 * publisher's `sentAt` to the moment the frame is handled here.
 *
 * The hot path does not JSON.parse events: it finds `"seq":` and `"sentAt":` in the frame's bytes, the same way
 * for every peer, so the generator costs the same whatever server it measures (and as little as it can: its
 * time is part of every latency). One event in 64 is checked in full, so a peer that sends something else is caught.
 *
 * A client may hold several subscriptions on its one socket (the `groups` layout: personal + group), and a step
 * may drop clients abruptly and reconnect them (`churnPerSecond`). A client that reconnects resubscribes; with a
 * resuming wire (ours) it passes the cursor of the last event each subscription got, so it owes every event; a
 * client without resume is owed only the events published while it was subscribed (its own clock: from sending
 * its subscriptions until the drop).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { serveRpc } from '../support/rpc.js';
import { PAD_LENGTH, channelCount, channelOfEvent, channelsOfClient, nowMs, padLength, type Layout, type WireSpec } from './wire.js';

/** One client: one socket, one subscription per wire, kept across reconnects. */
interface Subscriber {
  socket: WebSocket;
  open: boolean;
  /** One bit per subscription that has received an event. */
  gotData: number;
  lastSeq: number;
  /** What the client subscribes to on its socket, one wire per subscription (all of one peer). */
  wires: WireSpec[];
  /** Its channels in the layout, in the order of `wires`. */
  channels: number[];
  /** Resuming wires: the last event frame of each subscription, read for its cursor only when reconnecting. */
  lastFrames: (Buffer | undefined)[];
  /** When the current connection's subscriptions were sent (0 for the first connection). */
  upAt: number;
  /** This step's periods away: from the drop until its subscriptions were sent again. */
  away: [number, number][];
  reconnecting: boolean;
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
  /** Window deliveries of events published before the connection that got them was subscribed (resume replays): not in `latency`. */
  replayed: number;
  /** Window deliveries of events published while their client was away (not owed; not in `windowDelivered`). */
  deliveredWhileAway: number;
  churn: ChurnReport;
}

/** Clients dropped and reconnected during the step. */
export interface ChurnReport {
  reconnects: number;
  failed: number;
  /** From the end of the offline pause until the client's subscriptions were sent again. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const subscribers: Subscriber[] = [];
/** Which channels clients hold and events go to; per channel, the clients open at the step's start holding it. */
let layout: Layout = { kind: 'topics', topics: 1 };
let members: number[][] = [[]];
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
let replayed = 0;
let deliveredWhileAway = 0;
let churnTimer: NodeJS.Timeout | undefined;
let churnTurn = 0;
const reconnecting = new Set<Promise<void>>();
let reconnectMs: number[] = [];
let reconnectFailures = 0;
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
  const sub = subscriber.channels.length > 1 ? Math.max(0, subscriber.channels.indexOf(channelOfEvent(layout, seq))) : 0;
  subscriber.gotData |= 1 << sub;
  if (subscriber.lastFrames.length > 0) subscriber.lastFrames[sub] = data;
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
  // Whether it was owed is settled in `report`: an event in flight at a drop may arrive before the drop is recorded.
  windowDelivered += 1;
  perSeq[seq - windowFrom] = (perSeq[seq - windowFrom] ?? 0) + 1;
  perSubscriber[index] = (perSubscriber[index] ?? 0) + 1;
  if (sentAt < subscriber.upAt) {
    replayed += 1;
    return;
  }
  let micros = Math.round((receivedAt - sentAt) * 1000);
  if (micros < 0) {
    clampedNegative += 1;
    micros = 0;
  }
  histogram.recordValue(micros);
}

type Handler = (text: string) => void;

/**
 * Without resume, a client is not owed the events published this soon before its drop (in flight when the socket
 * died) or after it sent its subscriptions again (graphql-ws and a Socket.IO join have no acknowledgement: the
 * client cannot see when the server has taken them).
 */
const EDGE_GRACE_MS = 50;

/** Whether the client is owed an event sent at `sentAt`: always when it resumes, else unless it was away then. */
const owes = (subscriber: Subscriber, sentAt: number): boolean =>
  subscriber.lastFrames.length > 0 || !subscriber.away.some(([from, to]) => sentAt >= from && sentAt < to);

const CURSOR = Buffer.from('"cursor":"');

/** The cursor in an event frame of a resuming wire, or null. */
function cursorOf(frame: Buffer | undefined): string | null {
  const at = frame?.indexOf(CURSOR) ?? -1;
  if (!frame || at < 0) return null;
  const from = at + CURSOR.length;
  return frame.toString('latin1', from, frame.indexOf(0x22, from));
}

/** The socket URL of a client: plain wires carry their channel as `?topic=`, several subscriptions as several. */
function socketUrl(wires: WireSpec[]): string {
  const first = wires[0] as WireSpec;
  if (first.kind === 'socketio') return `${first.url}/socket.io/?EIO=4&transport=websocket`;
  if (first.kind === 'graphql-ws' || wires.length === 1) return first.url;
  const url = new URL(first.url);
  for (const wire of wires.slice(1)) for (const topic of new URL(wire.url).searchParams.getAll('topic')) url.searchParams.append('topic', topic);
  return url.toString();
}

/** Opens a client's socket and subscriptions (again, after a drop); resolves once its subscription requests are on the wire. */
function openSocket(index: number, subscriber: Subscriber, timeoutMs = 20_000): Promise<void> {
  const { wires } = subscriber;
  const wire = wires[0] as WireSpec;
  const socket = new WebSocket(socketUrl(wires), wire.kind === 'graphql-ws' ? ['graphql-transport-ws'] : [], {
    perMessageDeflate: false,
    // Every frame is checked by hand (1 in 64 in full); ws need not validate UTF-8 on top, for every peer alike.
    skipUTF8Validation: true,
    handshakeTimeout: timeoutMs,
  });
  subscriber.socket = socket;
  /** Handlers of a socket dropped for a reconnect stay quiet: the client has a new one. */
  const current = (): boolean => subscriber.socket === socket;
  const subscribed = (): void => {
    subscriber.open = true;
    if (subscriber.reconnecting) subscriber.upAt = nowMs();
  };
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
          wires.forEach((w, k) => {
            if (w.kind !== 'graphql-ws') return;
            const after = w.resume ? cursorOf(subscriber.lastFrames[k]) : null;
            send(JSON.stringify({ id: String(k + 1), type: 'subscribe', payload: { query: w.query, ...(after ? { variables: { after } } : {}) } }));
          });
          subscribed();
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
          for (const w of wires) if (w.kind === 'socketio') send(`42["join",${JSON.stringify(w.room)}]`);
          subscribed();
          settle();
        } else noteError(text);
      };
    }

    socket.on('open', () => {
      if (wire.kind === 'plain') {
        subscribed();
        settle();
      } else if (wire.kind === 'graphql-ws') {
        send(JSON.stringify({ type: 'connection_init', payload: wire.connectionParams }));
      }
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!current()) return;
      const seqAt = isBinary ? -1 : data.indexOf(SEQ);
      if (seqAt >= 0) onEvent(index, subscriber, data, seqAt);
      else control(isBinary ? '' : data.toString('utf8'));
    });
    socket.on('error', (error) => {
      if (!current()) return;
      noteError(`socket error: ${error.message}`);
      settle(error);
    });
    socket.on('close', (code) => {
      if (!current()) return;
      subscriber.open = false;
      closes.set(String(code), (closes.get(String(code)) ?? 0) + 1);
      settle(new Error(`closed with ${code} while subscribing`));
    });
  });
}

const openCount = (): number => subscribers.reduce((n, s) => n + (s.open ? 1 : 0), 0);

/**
 * Drops client `index` abruptly (no close frame, no `complete`), leaves it offline for `offlineMs` (a network
 * blip and the client noticing it), then reconnects it, up to 4 attempts.
 */
async function reconnect(index: number, offlineMs: number): Promise<void> {
  const subscriber = subscribers[index];
  if (!subscriber?.open || subscriber.reconnecting) return;
  subscriber.reconnecting = true;
  subscriber.open = false;
  const downAt = nowMs();
  subscriber.socket.terminate();
  await new Promise((resolve) => setTimeout(resolve, offlineMs));
  const reconnectAt = nowMs();
  for (let attempt = 1; ; attempt += 1) {
    try {
      await openSocket(index, subscriber);
      break;
    } catch (error) {
      if (attempt >= 4) {
        reconnectFailures += 1;
        noteError(`reconnect: ${(error as Error).message}`);
        subscriber.away.push([downAt - EDGE_GRACE_MS, Number.POSITIVE_INFINITY]);
        subscriber.reconnecting = false;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  subscriber.away.push([downAt - EDGE_GRACE_MS, subscriber.upAt + EDGE_GRACE_MS]);
  reconnectMs.push(subscriber.upAt - reconnectAt);
  subscriber.reconnecting = false;
}

/** Deliveries events seq ∈ [from, to) owe the clients that were open at the step's start (`sentAt[seq − from]`). */
function owedDeliveries(from: number, to: number, sentAt: number[]): number {
  let owed = 0;
  for (let seq = from; seq < to; seq += 1) {
    const at = sentAt[seq - from] ?? Number.NaN;
    for (const index of members[channelOfEvent(layout, seq)] ?? []) if (owes(subscribers[index] as Subscriber, at)) owed += 1;
  }
  return owed;
}

function churnReport(): ChurnReport {
  const sorted = [...reconnectMs].sort((a, b) => a - b);
  return { reconnects: sorted.length, failed: reconnectFailures, p50Ms: percentileOf(sorted, 50), p99Ms: percentileOf(sorted, 99), maxMs: percentileOf(sorted, 100) };
}

const percentileOf = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0) * 10) / 10;

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
   * Opens `count` more clients, `concurrency` at a time. With several wires (one per channel), client `i` holds
   * the channels of `layout` (by default: `wire[i % wire.length]`).
   */
  async connect(params: { wire: WireSpec | WireSpec[]; count: number; concurrency?: number; layout?: Layout }) {
    const wires = Array.isArray(params.wire) ? params.wire : [params.wire];
    layout = params.layout ?? { kind: 'topics', topics: wires.length };
    const started = performance.now();
    const first = subscribers.length;
    let nextIndex = first;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (nextIndex < first + params.count) {
        const index = nextIndex++;
        const channels = channelsOfClient(layout, index);
        const clientWires = channels.map((c) => wires[c] as WireSpec);
        const subscriber: Subscriber = {
          socket: undefined as unknown as WebSocket,
          open: false,
          gotData: 0,
          lastSeq: -1,
          wires: clientWires,
          channels,
          lastFrames: clientWires.some((w) => w.kind === 'graphql-ws' && w.resume) ? clientWires.map(() => undefined) : [],
          upAt: 0,
          away: [],
          reconnecting: false,
        };
        subscribers[index] = subscriber;
        await openSocket(index, subscriber).catch((error: Error) => {
          failed += 1;
          noteError(`connect: ${error.message}`);
        });
      }
    };
    await Promise.all(Array.from({ length: params.concurrency ?? 50 }, worker));
    return { open: openCount(), failed, ms: Math.round(performance.now() - started) };
  },
  /** How many open clients have received at least one event on every subscription (they are live). */
  readiness() {
    return { open: openCount(), withData: subscribers.reduce((n, s) => n + (s.open && s.gotData === (1 << s.wires.length) - 1 ? 1 : 0), 0) };
  },
  /**
   * Starts counting a step: events with seq ≥ stepFrom belong to it; [windowFrom, windowTo) are measured. With
   * `churn`, `perSecond` clients a second (evenly spaced, in a fixed order that spreads over the groups) are
   * dropped and reconnected `offlineMs` later, for `forMs` (so that the last are back as publishing ends).
   */
  startStep(params: { stepFrom: number; windowFrom: number; windowTo: number; payloadBytes?: number; churn?: { perSecond: number; offlineMs: number; forMs: number } }) {
    ({ stepFrom, windowFrom, windowTo } = params);
    expectedPad = params.payloadBytes === undefined ? PAD_LENGTH : padLength(params.payloadBytes);
    stepActive = true;
    subscribersAtStart = openCount();
    // Who should receive an event on each channel (the publisher's rule is the same layout).
    members = Array.from({ length: channelCount(layout) }, (): number[] => []);
    subscribers.forEach((s, i) => {
      s.away = [];
      if (s.open) for (const c of s.channels) members[c]?.push(i);
    });
    const audience = members.map((m) => m.length);
    stepDelivered = windowDelivered = duplicates = reordered = stale = clampedNegative = malformed = errors = replayed = deliveredWhileAway = 0;
    reconnectMs = [];
    reconnectFailures = 0;
    const { churn } = params;
    if (churn) {
      const clients = subscribers.length;
      const churnUntil = nowMs() + churn.forMs;
      churnTimer = setInterval(() => {
        if (nowMs() > churnUntil) {
          clearInterval(churnTimer);
          return;
        }
        // 397 is prime: consecutive turns land in different groups, and every client comes round once per `clients` turns.
        const turn = reconnect((churnTurn++ * 397) % clients, churn.offlineMs);
        reconnecting.add(turn);
        void turn.finally(() => reconnecting.delete(turn));
      }, 1000 / churn.perSecond);
    }
    errorSamples.length = 0;
    closes.clear();
    perSeq = new Int32Array(windowTo - windowFrom);
    perSubscriber = new Int32Array(subscribers.length);
    seen = new Uint8Array(subscribers.length * (windowTo - windowFrom));
    histogram.reset();
    loopDelay.reset();
    return { subscribersAtStart, audience };
  },
  /**
   * Stops dropping clients and waits for the reconnects in flight. Given every step event's `sentAt` (from
   * stepFrom), answers how many deliveries the step and its window owe the clients open at the start.
   */
  async stopChurn(params: { sentAt: number[] }) {
    clearInterval(churnTimer);
    churnTimer = undefined;
    await Promise.all(reconnecting);
    return { owedStep: owedDeliveries(stepFrom, windowTo, params.sentAt), owedWindow: owedDeliveries(windowFrom, windowTo, params.sentAt.slice(windowFrom - stepFrom)) };
  },
  progress() {
    // Not Infinity before the first event: IPC is JSON, and Infinity would arrive as null.
    return { stepDelivered, windowDelivered, msSinceLastData: lastDataAt === 0 ? Number.MAX_SAFE_INTEGER : nowMs() - lastDataAt };
  },
  /**
   * Ends the step. Given every step event's `sentAt` (from stepFrom; steps with churn), deliveries of events the
   * client was not owed move from `windowDelivered` to `deliveredWhileAway`.
   */
  report(params?: { sentAt: number[] }): StepReport {
    stepActive = false;
    if (params) {
      const span = windowTo - windowFrom;
      for (let seq = windowFrom; seq < windowTo; seq += 1) {
        const at = params.sentAt[seq - stepFrom] ?? Number.NaN;
        for (const index of members[channelOfEvent(layout, seq)] ?? []) {
          if (seen[index * span + (seq - windowFrom)] === 1 && !owes(subscribers[index] as Subscriber, at)) deliveredWhileAway += 1;
        }
      }
      windowDelivered -= deliveredWhileAway;
    }
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
      eventsFullyDelivered: perSeq.reduce((n, c, i) => n + (c >= (members[channelOfEvent(layout, windowFrom + i)]?.length ?? 0) ? 1 : 0), 0),
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
      replayed,
      deliveredWhileAway,
      churn: churnReport(),
    };
  },
  /** Closes every socket at once. */
  close() {
    clearInterval(churnTimer);
    for (const subscriber of subscribers) subscriber.socket.terminate();
    subscribers.length = 0;
    return { closed: true };
  },
};

export type SubscriberMethods = typeof methods;

serveRpc(methods);
