/**
 * Runs `poll` at once, then `intervalMs` after each run ends (runs never overlap), until stopped. A failed run
 * is handed to `onError` and the loop goes on: a database that is briefly down must not end a role.
 */
export function startPollLoop(options: {
  poll: () => Promise<void>;
  intervalMs: number;
  onError: (error: Error) => void;
}): { stop(): Promise<void> } {
  const { poll, intervalMs, onError } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = (): void => {
    running = poll()
      .catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  loop();
  return {
    /** Resolves once no run is in flight (a run in flight may still start work: the caller stops that after). */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
