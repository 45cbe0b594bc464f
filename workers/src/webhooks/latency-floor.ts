/**
 * The fastest answer an endpoint gave lately: the lowest latency of the current one-second window and of the
 * one before it (if that one ended less than a second ago). Not an average: when the process is busy, every
 * answer waits for its event loop and a fast endpoint looks slow on average, but it still answers some
 * attempts quickly, which a slow endpoint never does.
 */
export interface LatencyFloor {
  note(endpointId: string, latencyMs: number): void;
  /** In ms; 0 for an endpoint with no answer yet. */
  of(endpointId: string): number;
  /** Forgets the endpoints `keep` rejects. */
  prune(keep: (endpointId: string) => boolean): void;
}

const WINDOW_MS = 1_000;

export function createLatencyFloor(now: () => number = Date.now): LatencyFloor {
  const windows = new Map<string, { since: number; current: number; previous: number }>();
  return {
    note(endpointId, latencyMs) {
      const at = now();
      const window = windows.get(endpointId);
      if (!window) windows.set(endpointId, { since: at, current: latencyMs, previous: Infinity });
      else if (at - window.since >= WINDOW_MS) {
        window.previous = at - window.since < 2 * WINDOW_MS ? window.current : Infinity;
        window.current = latencyMs;
        window.since = at;
      } else if (latencyMs < window.current) window.current = latencyMs;
    },
    of(endpointId) {
      const window = windows.get(endpointId);
      return window ? Math.min(window.current, window.previous) : 0;
    },
    prune(keep) {
      for (const id of windows.keys()) if (!keep(id)) windows.delete(id);
    },
  };
}
