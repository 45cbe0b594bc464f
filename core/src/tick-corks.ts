/** A writable stream that can hold its writes (net.Socket, the streams under ioredis). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export interface TickCorks {
  /**
   * Corks `stream` until the current tick's work, its promise jobs included, is done, so everything written to
   * it meanwhile leaves in one write instead of one system call each. Once per stream per tick; nothing waits
   * longer than the tick that wrote it.
   */
  cork(stream: Corkable): void;
  /** Uncorks `stream` at once, if this corked it (enough is queued to be worth a write of its own). */
  uncorkNow(stream: Corkable): void;
}

/** Corks streams for the rest of a tick (see TickCorks); one `process.nextTick` uncorks every stream corked in it. */
export function createTickCorks(): TickCorks {
  const corked = new Set<Corkable>();
  const uncorkAll = (): void => {
    for (const stream of corked) stream.uncork();
    corked.clear();
  };
  return {
    cork(stream) {
      if (corked.has(stream)) return;
      stream.cork();
      corked.add(stream);
      // A tick queued from a promise job runs after every job queued so far: the whole cascade is in one write.
      if (corked.size === 1) process.nextTick(uncorkAll);
    },
    uncorkNow(stream) {
      if (corked.delete(stream)) stream.uncork();
    },
  };
}
