import type { WebSocket } from 'ws';

/** How many slices a keep-alive interval is cut into: every slice pings its own share of the sockets. */
const SLICES = 100;

export interface Heartbeat {
  /** Starts watching a socket; it is forgotten when it closes. */
  add(socket: WebSocket): void;
  /** Stops the timer (the sockets are left as they are). */
  stop(): void;
}

/**
 * WebSocket keep-alive for every socket of a server: each socket is pinged once per `intervalMs`, and one that
 * has not answered the previous ping by then is cut (`terminate`), as graphql-ws's own keep-alive does.
 *
 * graphql-ws's version gives every socket an interval timer, and per ping a timeout and a `pong` listener. Sockets
 * that connected together (a deploy, a reconnect wave) were then pinged in one burst: 1,000 pings written in one
 * tick and their pongs right after, every 12 s, in the middle of live fan-out. Here one timer ticks
 * every `intervalMs / 100`, and each socket belongs to one of 100 slices (round robin as they connect), so a tick
 * pings about 1 % of the sockets; a socket carries one listener for its whole life and no timer of its own.
 */
export function startHeartbeat(intervalMs: number): Heartbeat {
  const slices: Set<WebSocket>[] = Array.from({ length: SLICES }, () => new Set());
  /** Sockets pinged and not heard from since. */
  const awaiting = new WeakSet<WebSocket>();
  let nextSlice = 0;
  let tick = 0;

  function onPong(this: WebSocket): void {
    awaiting.delete(this);
  }

  const timer = setInterval(() => {
    const slice = slices[tick] as Set<WebSocket>;
    tick = (tick + 1) % SLICES;
    for (const socket of slice) {
      if (socket.readyState !== socket.OPEN) continue;
      if (awaiting.has(socket)) {
        socket.terminate(); // no pong for a whole interval
        continue;
      }
      awaiting.add(socket);
      socket.ping();
    }
  }, intervalMs / SLICES);
  timer.unref();

  return {
    add(socket) {
      const slice = slices[nextSlice] as Set<WebSocket>;
      nextSlice = (nextSlice + 1) % SLICES;
      slice.add(socket);
      socket.on('pong', onPong);
      socket.once('close', () => slice.delete(socket));
    },
    stop() {
      clearInterval(timer);
    },
  };
}
