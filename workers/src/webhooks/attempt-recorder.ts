import { recordAttempts, type AttemptRecord, type Queryable } from '@realtime/core';

export interface AttemptRecorder {
  /** Resolves once the attempt is committed, with its endpoint's failure run (see recordAttempts). */
  record(attempt: AttemptRecord): Promise<{ failingSince: Date | null }>;
}

export interface AttemptRecorderOptions {
  db: Queryable;
  /** Most attempts written by one statement. @default 500 */
  maxBatch?: number;
}

interface Waiting {
  attempt: AttemptRecord;
  resolve: (value: { failingSince: Date | null }) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for attempt records: while one batch is being written, the attempts finished meanwhile wait
 * and go together in the next statement. One attempt alone is written at once (no timer, no added latency);
 * under load, PostgreSQL commits once per batch instead of once per delivery. Every caller still waits for
 * its own record to be committed before its job completes (the at-least-once rule).
 */
export function createAttemptRecorder(options: AttemptRecorderOptions): AttemptRecorder {
  const { db, maxBatch = 500 } = options;
  let queue: Waiting[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        try {
          const results = await writeWithRetry(batch.map((w) => w.attempt));
          batch.forEach((w, i) => w.resolve(results[i] ?? { failingSince: null }));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      writing = false;
    }
  }

  async function writeWithRetry(attempts: AttemptRecord[]): Promise<{ failingSince: Date | null }[]> {
    try {
      return await recordAttempts(db, attempts);
    } catch (error) {
      // Two processes' batches can still meet on the same delivery rows (a duplicate job after a crash).
      if ((error as { code?: string }).code === '40P01') return recordAttempts(db, attempts);
      throw error;
    }
  }

  return {
    record(attempt) {
      return new Promise((resolve, reject) => {
        queue.push({ attempt, resolve, reject });
        if (!writing) void drain();
      });
    },
  };
}
