import type { Redis } from 'ioredis';
import { closeRedis } from './connection.js';
import type { EventEnvelope } from '../protocol.js';

export type EventListener = (event: Readonly<EventEnvelope>) => void;

/**
 * The process's one Pub/Sub connection, shared by every subscription. Channels are reference-counted:
 * the first listener of a channel SUBSCRIBEs, the last one to leave UNSUBSCRIBEs. Each message is
 * decoded once per process and the same frozen envelope is handed to every listener.
 */
export interface Subscriber {
  /** Adds a listener; resolves once Redis confirms the subscription. The returned function removes it. */
  listen(channel: string, listener: EventListener): Promise<() => void>;
  /** Like listen, for channels of plain-text messages (presence, broadcasts): handed over undecoded. */
  raw(channel: string, listener: (message: string) => void): Promise<() => void>;
  /**
   * Subscribes to a channel of plain-text control messages (registry changes, key revocations);
   * resolves once Redis confirms. Control channels are not reference-counted and stay until close.
   */
  control(channel: string, handler: (message: string) => void): Promise<void>;
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
  listeners: Set<(value: never) => void>;
  /** Settles when the SUBSCRIBE (or the UNSUBSCRIBE in flight) has been answered. */
  ready: Promise<void>;
  subscribed: boolean;
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

  redis.on('message', (channelName: string, message: string) => {
    const control = controls.get(channelName);
    if (control) {
      control(message);
      return;
    }
    const channel = channels.get(channelName);
    if (!channel || channel.listeners.size === 0) return;
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
  });

  async function release(name: string, channel: Channel, listener: (value: never) => void): Promise<void> {
    if (!channel.listeners.delete(listener) || channel.listeners.size > 0) return;
    // Last listener left: unsubscribe after any pending SUBSCRIBE, unless someone joined meanwhile.
    channel.ready = channel.ready.then(async () => {
      if (channel.listeners.size > 0 || !channel.subscribed) return;
      channel.subscribed = false;
      await redis.unsubscribe(name);
      if (channel.listeners.size === 0 && channels.get(name) === channel) channels.delete(name);
    });
    await channel.ready.catch(() => undefined);
  }

  async function add(name: string, listener: (value: never) => void, raw: boolean): Promise<() => void> {
    let channel = channels.get(name);
    if (!channel) {
      channel = { raw, listeners: new Set(), ready: Promise.resolve(), subscribed: false };
      channels.set(name, channel);
    }
    channel.listeners.add(listener);
    const current = channel;
    current.ready = current.ready.then(async () => {
      if (current.subscribed || current.listeners.size === 0) return;
      await redis.subscribe(name);
      current.subscribed = true;
      if (channels.get(name) !== current) channels.set(name, current);
    });
    try {
      await current.ready;
    } catch (error) {
      current.listeners.delete(listener);
      current.ready = Promise.resolve();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      void release(name, current, listener);
    };
  }

  return {
    listen: (name, listener) => add(name, listener as (value: never) => void, false),
    raw: (name, listener) => add(name, listener as (value: never) => void, true),
    async control(name, handler) {
      controls.set(name, handler);
      await redis.subscribe(name);
    },
    channelCount: () => [...channels.values()].filter((c) => c.subscribed).length,
    listenerCount: () => [...channels.values()].reduce((n, c) => n + c.listeners.size, 0),
    decodeErrors: () => decodeErrorCount,
    async close() {
      channels.clear();
      controls.clear();
      await closeRedis(redis);
    },
  };
}
