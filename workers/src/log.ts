import type { LogLevel } from '@realtime/core';

/** What worker roles log with: one JSON object per line on stderr, like the server's logger. */
export type WorkerLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createWorkerLog(level: LogLevel): WorkerLog {
  return (at, msg, fields) => {
    if (ORDER[at] < ORDER[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`);
  };
}
