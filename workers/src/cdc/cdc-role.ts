import { leaseKey, listCdcSources, reportCdcSource, usesReplication, type CdcSource, type Platform } from '@realtime/core';
import { createLease, type Lease } from '../lease.js';
import { startPollLoop } from '../poll-loop.js';
import { createWorkerLog } from '../log.js';
import type { WorkerRole } from '../roles.js';
import { startChangeStream, type ChangeStream } from './change-stream.js';

interface Running {
  lease: Lease;
  stream: ChangeStream | undefined;
  /** What the stream was started with; a change (tables, outbox) restarts it. */
  definition: string;
  renew: NodeJS.Timeout;
  stopping: boolean;
}

const definitionOf = (source: CdcSource): string =>
  JSON.stringify([source.tables, source.outboxTable, source.outboxMode, source.connectionStringEncrypted]);

/**
 * The `cdc` role: every instance looks for sources each `REALTIME_CDC_POLL_MS`; for each one that streams
 * and is not paused it tries to take the source's lease, and the holder runs the change stream. The lease
 * is renewed every third of `REALTIME_CDC_LEASE_MS`; losing it (or the source being paused, changed or
 * deleted) stops the stream at once, without acknowledging anything more. A failed stream is restarted at
 * the next poll from the slot's confirmed position (re-delivered changes keep their ids).
 */
export const cdcRole: WorkerRole = {
  name: 'cdc',
  description: 'Streams captured tables (and STREAM-mode outboxes) from logical replication slots into topics.',
  async start(platform: Platform) {
    const { cdcLeaseMs, cdcPollMs, cdcHeartbeatMs, redisKeyPrefix } = platform.config;
    const log = createWorkerLog(platform.config.logLevel);
    const running = new Map<string, Running>();

    async function stopSource(id: string): Promise<void> {
      const entry = running.get(id);
      if (!entry || entry.stopping) return;
      entry.stopping = true;
      clearInterval(entry.renew);
      await entry.stream?.stop().catch(() => undefined);
      await entry.lease.release().catch(() => undefined);
      running.delete(id);
    }

    async function startSource(source: CdcSource): Promise<void> {
      const lease = createLease({
        redis: platform.redis,
        key: leaseKey(redisKeyPrefix, { applicationId: source.applicationId, environment: source.environment }, `cdc:${source.id}`),
        ttlMs: cdcLeaseMs,
      });
      if (!(await lease.acquire())) return;
      const entry: Running = {
        lease,
        stream: undefined,
        definition: definitionOf(source),
        stopping: false,
        renew: setInterval(() => {
          lease.renew().then(
            (held) => {
              if (!held) {
                log('warn', 'cdc lease lost; stopping the stream', { sourceId: source.id });
                void stopSource(source.id);
              }
            },
            () => void stopSource(source.id),
          );
        }, Math.max(100, Math.floor(cdcLeaseMs / 3))),
      };
      running.set(source.id, entry);
      try {
        const stream = await startChangeStream({
          platform,
          source,
          connectionString: platform.secrets.open(source.connectionStringEncrypted),
          heartbeatMs: cdcHeartbeatMs,
          reportMs: cdcPollMs,
          log,
        });
        entry.stream = stream;
        if (entry.stopping) await stream.stop();
        void stream.ended.then(() => stopSource(source.id));
        log('info', 'cdc stream started', { sourceId: source.id, name: source.name });
      } catch (error) {
        log('error', 'cdc stream could not start', { sourceId: source.id, error: (error as Error).message });
        await reportCdcSource(platform.pool, source.id, { status: 'ERROR', lastError: (error as Error).message }).catch(() => undefined);
        await stopSource(source.id);
      }
    }

    async function poll(): Promise<void> {
      const sources = await listCdcSources(platform.pool);
      const wanted = new Map(sources.filter((s) => usesReplication(s) && !s.paused).map((s) => [s.id, s]));
      for (const [id, entry] of running) {
        const source = wanted.get(id);
        if (!source || definitionOf(source) !== entry.definition) await stopSource(id);
      }
      for (const source of wanted.values()) {
        const entry = running.get(source.id);
        if (!entry) await startSource(source);
        else if (source.snapshotRequested && entry.stream) void entry.stream.snapshot(source.snapshotRequests);
      }
    }

    const loop = startPollLoop({ poll, intervalMs: cdcPollMs, onError: (error) => log('error', 'cdc poll failed', { error: error.message }) });

    return {
      async stop() {
        await loop.stop(); // a poll in flight may still start something: let it finish, then stop everything
        await Promise.all([...running.keys()].map(stopSource));
      },
    };
  },
};
