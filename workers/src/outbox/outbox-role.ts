import { connectSource, leaseKey, listCdcSources, reportCdcSource, usesReplication, type CdcSource, type Platform } from '@realtime/core';
import { createLease, type Lease } from '../lease.js';
import { startPollLoop } from '../poll-loop.js';
import { createWorkerLog } from '../log.js';
import type { WorkerRole } from '../roles.js';
import { relayOutboxRound } from './outbox-poller.js';

interface Relay {
  lease: Lease;
  stop(): Promise<void>;
}

/**
 * The `outbox` role: relays POLL-mode outboxes (STREAM-mode ones are read by the `cdc` role from the
 * replication stream). One relay per source across instances, held by a lease like the CDC stream; a relay
 * polls every `REALTIME_OUTBOX_POLL_MS`, at once again after a full batch, and on an error records it on
 * the source and retries the same rows at the next poll (a bad row stops the relay; it is never skipped).
 */
export const outboxRole: WorkerRole = {
  name: 'outbox',
  description: 'Relays rows of POLL-mode outbox tables into topics.',
  async start(platform: Platform) {
    const { cdcLeaseMs, cdcPollMs, outboxPollMs, redisKeyPrefix } = platform.config;
    const log = createWorkerLog(platform.config.logLevel);
    const relays = new Map<string, Relay>();

    function startRelay(source: CdcSource, lease: Lease): Relay {
      let active = true;
      let wake: () => void = () => undefined;
      let client: Awaited<ReturnType<typeof connectSource>> | undefined;
      const ownsStatus = !usesReplication(source);
      const renew = setInterval(() => {
        lease.renew().then(
          (held) => {
            if (!held) void relay.stop();
          },
          () => void relay.stop(),
        );
      }, Math.max(100, Math.floor(cdcLeaseMs / 3)));
      const run = async (): Promise<void> => {
        // Status is written when it changes (first round, recovery), not every round.
        let failing = true;
        while (active) {
          let relayed = 0;
          try {
            client ??= await connectSource(platform.secrets.open(source.connectionStringEncrypted));
            relayed = await relayOutboxRound(platform, source, client);
            if (failing) {
              await reportCdcSource(platform.pool, source.id, { ...(ownsStatus ? { status: 'RUNNING' as const } : {}), lastError: null });
              failing = false;
            }
          } catch (error) {
            failing = true;
            log('error', 'outbox relay failed', { sourceId: source.id, error: (error as Error).message });
            await reportCdcSource(platform.pool, source.id, { ...(ownsStatus ? { status: 'ERROR' as const } : {}), lastError: (error as Error).message }).catch(() => undefined);
            await client?.end().catch(() => undefined);
            client = undefined;
          }
          if (relayed === 0 && active) await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, outboxPollMs);
          });
        }
        await client?.end().catch(() => undefined);
      };
      const done = run();
      const relay: Relay = {
        lease,
        async stop() {
          if (!active) return done;
          active = false;
          clearInterval(renew);
          wake();
          await done;
          await lease.release().catch(() => undefined);
          relays.delete(source.id);
        },
      };
      return relay;
    }

    async function poll(): Promise<void> {
      const sources = await listCdcSources(platform.pool);
      const wanted = new Map(sources.filter((s) => s.outboxMode === 'POLL' && !s.paused).map((s) => [s.id, s]));
      for (const [id, relay] of relays) if (!wanted.has(id)) await relay.stop();
      for (const source of wanted.values()) {
        if (relays.has(source.id)) continue;
        const lease = createLease({
          redis: platform.redis,
          key: leaseKey(redisKeyPrefix, { applicationId: source.applicationId, environment: source.environment }, `outbox:${source.id}`),
          ttlMs: cdcLeaseMs,
        });
        if (await lease.acquire()) relays.set(source.id, startRelay(source, lease));
      }
    }

    const loop = startPollLoop({ poll, intervalMs: cdcPollMs, onError: (error) => log('error', 'outbox poll failed', { error: error.message }) });
    return {
      async stop() {
        await loop.stop(); // a poll in flight may still start something: let it finish, then stop everything
        await Promise.all([...relays.values()].map((r) => r.stop()));
      },
    };
  },
};
