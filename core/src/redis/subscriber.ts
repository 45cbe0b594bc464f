import type { Redis } from 'ioredis';
import { closeRedis } from './connection.js';
import type { EventEnvelope } from '../protocol.js';

export type EventListener = (event: Readonly<EventEnvelope>) => void;

/** Hooks around the dispatch of messages that arrived together: see {@link Subscriber.onBatch}. */
export interface DispatchBatch {
  begin(): void;
  end(): void;
}

/**
 * The process's one Pub/Sub connection, shared by every subscription. Channels are reference-counted:
 * the first listener of a channel SUBSCRIBEs, the last one to leave UNSUBSCRIBEs. Each message is
 * decoded once per process and the same frozen envelope is handed to every listener.
 */
export interface Subscriber {
  /**
   * Adds a listener; resolves once Redis confirms the subscription. The returned function removes it.
   * With `subject`, the listener is handed only events of that subject (an index, not a filter: a personal
   * stream on a busy topic costs nothing for the other subjects' events).
   */
  listen(channel: string, listener: EventListener, subject?: string): Promise<() => void>;
  /** Like listen, for channels of plain-text messages (presence, broadcasts): handed over undecoded. */
  raw(channel: string, listener: (message: string) => void): Promise<() => void>;
  /**
   * Subscribes to a channel of plain-text control messages (registry changes, key revocations);
   * resolves once Redis confirms. Control channels are not reference-counted and stay until close.
   */
  control(channel: string, handler: (message: string) => void): Promise<void>;
  /**
   * Registers hooks called around the dispatch of messages that arrived together (one read from Redis: a burst,
   * or the backlog after a stall). Between `begin` and `end` the listeners are handed those messages in the order
   * they came, synchronously, so a transport can gather what it writes to each connection and write it once. A
   * lone message is dispatched without them. Returns the function that removes the hooks.
   */
  onBatch(batch: DispatchBatch): () => void;
  /** Channels currently subscribed in Redis. */
  channelCount(): number;
  /** Listeners across all channels. */
  listenerCount(): number;
  /** Messages that could not be decoded (never expected; counted for metrics). */
  decodeErrors(): number;
  close(): Promise<void>;
}

interface Channel {
  /** Envelope channels decode once per message; raw channels pass the text. */
  raw: boolean;
  /** Listeners of every message. */
  listeners: Set<(value: never) => void>;
  /** Listeners of one subject's events (envelope channels only). */
  bySubject: Map<string, Set<EventListener>>;
  /** Listeners in all: the channel is subscribed while there are any. */
  size: number;
  /** Settles when the SUBSCRIBE (or the UNSUBSCRIBE in flight) has been answered. */
  ready: Promise<void>;
  subscribed: boolean;
}

/**
 * A JSON decoder that decodes each message once per process: the subscriber hands every listener of a channel
 * the same message in turn, and each listener gets the same frozen object, so their subscribers share one
 * execution and one serialization per message (server/src/ws/shared-execution.ts) instead of one each. Throws as
 * JSON.parse does.
 */
export function createMessageDecoder<T>(): (message: string) => Readonly<T> {
  let last: string | undefined;
  let decoded: Readonly<T> | undefined;
  return (message) => {
    if (decoded === undefined || message !== last) {
      decoded = Object.freeze(JSON.parse(message) as T);
      last = message;
    }
    return decoded;
  };
}

/** Decodes `<cursor>\n<envelope JSON>` as written by the publish script. */
export function decodeMessage(message: string): EventEnvelope {
  const newline = message.indexOf('\n');
  const envelope = JSON.parse(message.slice(newline + 1)) as EventEnvelope;
  envelope.cursor = message.slice(0, newline);
  return envelope;
}

export function createSubscriber(redis: Redis): Subscriber {
  const channels = new Map<string, Channel>();
  const controls = new Map<string, (message: string) => void>();
  let decodeErrorCount = 0;

  const batches = new Set<DispatchBatch>();
  /**
   * Messages received in the current task, dispatched once it is over (a microtask): ioredis emits every message
   * of one read from the socket in a row, so by then they are all here, and listeners can be told they come
   * together (see onBatch). Two arrays rather than a pair per message.
   */
  let inboxChannels: string[] = [];
  let inboxMessages: string[] = [];

  const drain = (): void => {
    const names = inboxChannels;
    const messages = inboxMessages;
    if (names.length === 1) {
      const name = names[0] as string;
      const message = messages[0] as string;
      names.length = 0;
      messages.length = 0;
      dispatch(name, message);
      return;
    }
    inboxChannels = [];
    inboxMessages = [];
    // Listeners must not throw; should one do so anyway, the batch's other messages are still dispatched and the
    // hooks closed before the error surfaces, as it would for a lone message.
    let failure: { error: unknown } | undefined;
    for (const batch of batches) batch.begin();
    for (let i = 0; i < names.length; i += 1) {
      try {
        dispatch(names[i] as string, messages[i] as string);
      } catch (error) {
        failure ??= { error };
      }
    }
    for (const batch of batches) batch.end();
    if (failure) throw failure.error;
  };

  redis.on('message', (channelName: string, message: string) => {
    inboxChannels.push(channelName);
    inboxMessages.push(message);
    if (inboxChannels.length === 1) queueMicrotask(drain);
  });

  function dispatch(channelName: string, message: string): void {
    const control = controls.get(channelName);
    if (control) {
      control(message);
      return;
    }
    const channel = channels.get(channelName);
    if (!channel || channel.size === 0) return;
    if (channel.raw) {
      for (const listener of channel.listeners) (listener as (m: string) => void)(message);
      return;
    }
    let event: EventEnvelope;
    try {
      event = Object.freeze(decodeMessage(message));
    } catch {
      decodeErrorCount += 1;
      return;
    }
    for (const listener of channel.listeners) (listener as EventListener)(event);
    if (event.subject !== null && channel.bySubject.size > 0) {
      const ofSubject = channel.bySubject.get(event.subject);
      if (ofSubject) for (const listener of ofSubject) listener(event);
    }
  }

  /** The set a listener lives in: the channel's own, or its subject's (created on demand). */
  const setOf = (channel: Channel, subject: string | undefined): Set<(value: never) => void> => {
    if (subject === undefined) return channel.listeners;
    let set = channel.bySubject.get(subject);
    if (!set) channel.bySubject.set(subject, (set = new Set()));
    return set as Set<(value: never) => void>;
  };

  /** Removes a listener from its set (dropping a subject's set when it empties); false when it was not there. */
  const remove = (channel: Channel, listener: (value: never) => void, subject: string | undefined): boolean => {
    const set = subject === undefined ? channel.listeners : (channel.bySubject.get(subject) as Set<(value: never) => void> | undefined);
    if (!set?.delete(listener)) return false;
    if (subject !== undefined && set.size === 0) channel.bySubject.delete(subject);
    channel.size -= 1;
    return true;
  };

  async function release(name: string, channel: Channel, listener: (value: never) => void, subject: string | undefined): Promise<void> {
    if (!remove(channel, listener, subject) || channel.size > 0) return;
    // Last listener left: unsubscribe after any pending SUBSCRIBE, unless someone joined meanwhile.
    channel.ready = channel.ready.then(async () => {
      if (channel.size > 0 || !channel.subscribed) return;
      channel.subscribed = false;
      await redis.unsubscribe(name);
      if (channel.size === 0 && channels.get(name) === channel) channels.delete(name);
    });
    await channel.ready.catch(() => undefined);
  }

  async function add(name: string, listener: (value: never) => void, raw: boolean, subject?: string): Promise<() => void> {
    let channel = channels.get(name);
    if (!channel) {
      channel = { raw, listeners: new Set(), bySubject: new Map(), size: 0, ready: Promise.resolve(), subscribed: false };
      channels.set(name, channel);
    }
    const current = channel;
    const join = (): void => {
      const set = setOf(current, subject);
      if (set.has(listener)) return;
      set.add(listener);
      current.size += 1;
    };
    join();
    current.ready = current.ready.then(async () => {
      if (current.subscribed || current.size === 0) return;
      await redis.subscribe(name);
      current.subscribed = true;
      if (channels.get(name) !== current) channels.set(name, current);
    });
    try {
      await current.ready;
    } catch (error) {
      remove(current, listener, subject);
      current.ready = Promise.resolve();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      void release(name, current, listener, subject);
    };
  }

  return {
    listen: (name, listener, subject) => add(name, listener as (value: never) => void, false, subject),
    raw: (name, listener) => add(name, listener as (value: never) => void, true),
    async control(name, handler) {
      controls.set(name, handler);
      await redis.subscribe(name);
    },
    onBatch(batch) {
      batches.add(batch);
      return () => void batches.delete(batch);
    },
    channelCount: () => [...channels.values()].filter((c) => c.subscribed).length,
    listenerCount: () => [...channels.values()].reduce((n, c) => n + c.size, 0),
    decodeErrors: () => decodeErrorCount,
    async close() {
      channels.clear();
      controls.clear();
      batches.clear();
      await closeRedis(redis);
    },
  };
}
