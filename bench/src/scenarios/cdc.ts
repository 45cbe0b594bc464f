/**
 * Scenario `cdc`: PostgreSQL commit → graphql-ws subscriber through logical replication.
 *
 * 1. Latency: single-row transactions at a fixed rate (1,000 tx/s) for 10 s; latency = the subscriber's
 *    receipt − the moment the writer saw its COMMIT return (same process, same clock; an event that arrives
 *    first counts 0 and the share of those is reported), and, more conservatively, − the moment the
 *    statement was sent.
 * 2. Capacity: a burst of 50,000 rows (transactions of 100) written as fast as possible; the drain rate
 *    (rows / time until the subscriber has them all) is the most the pipeline delivers per second.
 * 3. Sustained: 80 % of that drain rate, paced for 10 s; "lag not growing" when the backlog at the end of
 *    the phase is under half a second of the rate and the slot's lag is back under 1 MiB two seconds later.
 *    When it falls behind, 65 % and then 50 % are tried: the result is the highest rate that keeps up.
 * 4. Row sizes: 1 KB and 10 KB in the `pad` column instead of 100 bytes (the larger payloads): the
 *    latency phase at the same rate for 4 s, and a 5,000-row burst drained by ours and read by the raw decoder.
 *
 * Peer: `raw-decode`, a bare pg-logical-replication consumer (pgoutput, auto-acknowledge) of its own slot on
 * the same table, reading the burst's WAL: the ceiling of decoding and transfer alone, no history, no
 * subscriber. Everything runs on 127.0.0.1; the platform is `node server/dist/main.js start` (every role).
 */
import { gql, platformEnv, signInAdmin } from '../support/platform-api.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import replication from 'pg-logical-replication';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { sleep, startProcess } from '../support/children.js';
import { POSTGRES_URL, deleteRedisPrefix, dropDatabase, freePort, uniqueName } from '../support/services.js';
import { machineInfo } from '../support/proc.js';
import { nowMs } from '../load/wire.js';
import type { PlatformBuild } from '../peers/platform-build.js';
import type { CdcResult } from '../report/results.js';
import type { LatencySummary } from '../load/subscribers.js';



function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { count: sorted.length, meanMs: mean, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: sorted[sorted.length - 1] ?? Number.NaN };
}

/**
 * Shares of the measured drain rate tried for the sustained rate, highest first; the first one whose lag does not
 * grow is the result. One try at 80 % said only "falls behind" when the machine was a little slower than the burst.
 */
const SUSTAIN_SHARES = [0.8, 0.65, 0.5];

export async function runCdc(options: { quick?: boolean; log: (line: string) => void; platform: PlatformBuild }): Promise<CdcResult> {
  const { log, quick = false } = options;
  const startedAt = new Date();
  const latencyRate = quick ? 200 : 1_000;
  // 10 s (it was 15) leaves room for the larger rows: 10,000 transactions still put a hundred samples above p99.
  const latencySeconds = quick ? 3 : 10;
  /** The latency phase's load, unmeasured, before it (the first rows go through a process that has compiled nothing yet). */
  const warmUpSeconds = quick ? 1 : 2;
  const burstRows = quick ? 5_000 : 50_000;
  const sustainSeconds = quick ? 3 : 10;
  const sizeSeconds = quick ? 2 : 4;
  const sizeBurstRows = quick ? 1_000 : 5_000;

  const sourceDb = uniqueName('rt_bench_src');
  const platformDb = uniqueName('rt_bench');
  const prefix = uniqueName('bench');
  const admin = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${sourceDb}"`);
  const sourceUrl = `${POSTGRES_URL}/${sourceDb}`;
  const writers = new pg.Pool({ connectionString: sourceUrl, max: 16 });
  await writers.query('CREATE TABLE bench_changes (id bigserial PRIMARY KEY, pad text NOT NULL)');
  await writers.query('CREATE PUBLICATION bench_raw FOR TABLE bench_changes');

  const port = await freePort();
  const server = startProcess(process.execPath, ['server/dist/main.js', 'start'], {
    cwd: options.platform.root,
    env: platformEnv({ port, database: platformDb, prefix, extra: { REALTIME_CDC_POLL_MS: '250' } }),
  });
  const base = `http://127.0.0.1:${port}`;
  const socket = { client: undefined as ReturnType<typeof createClient> | undefined };
  let sourceId: string | undefined;
  let cookie = '';
  try {
    for (let i = 0; ; i += 1) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not yet listening
      }
      if (i > 900 || server.child.exitCode !== null) throw new Error(`platform did not start:\n${server.output().slice(-4000)}`);
      await sleep(100);
    }
    cookie = await signInAdmin(base);
    const auth = { cookie };
    const app = (await gql<{ createApplication: { id: string } }>(base, 'mutation { createApplication(input: { name: "Bench" }) { id } }', {}, auth)).data.createApplication.id;
    const pk = (await gql<{ createApiKey: { secret: string } }>(base, 'mutation($app: ID!) { createApiKey(input: { applicationId: $app, environment: DEV, kind: PUBLISHABLE }) { secret } }', { app }, auth)).data.createApiKey.secret;
    sourceId = (
      await gql<{ createCdcSource: { id: string } }>(
        base,
        'mutation($input: CreateCdcSourceInput!) { createCdcSource(input: $input) { id } }',
        { input: { applicationId: app, environment: 'DEV', name: 'bench', connectionString: sourceUrl, tables: [{ table: 'bench_changes', topic: 'bench.change', operations: ['INSERT'] }], snapshot: false } },
        auth,
      )
    ).data.createCdcSource.id;
    await gql(base, 'mutation($app: ID!) { setTopicRetention(input: { applicationId: $app, environment: DEV, topic: "bench.change", retention: { maxEvents: 200000 } }) { name } }', { app }, auth);
    const slotLag = async (): Promise<number> =>
      Number((await writers.query(`SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::float8 AS lag FROM pg_replication_slots WHERE slot_name LIKE 'rt_cdc_%' AND database = current_database()`)).rows[0]?.lag ?? 0);

    // The subscriber: receipt times by row id.
    const received = new Map<number, number>();
    socket.client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, connectionParams: { apiKey: pk }, lazy: false, retryAttempts: 0 });
    let subscribed = false;
    socket.client.subscribe<{ benchChange: { data: { after: { id: number } } } }>(
      { query: 'subscription { benchChange { data { after { id } } } }' },
      {
        next: (value) => {
          const id = value.data?.benchChange.data.after.id;
          if (id !== undefined && !received.has(id)) received.set(id, nowMs());
        },
        error: (error) => log(`cdc: subscription error ${JSON.stringify(error)}`),
        complete: () => undefined,
      },
    );
    // Wait until a probe row arrives: the stream and the subscription are both live.
    for (let i = 0; !subscribed; i += 1) {
      const { rows } = await writers.query<{ id: string }>(`INSERT INTO bench_changes (pad) VALUES ('probe') RETURNING id`);
      const probe = Number(rows[0]?.id);
      for (let j = 0; j < 20 && !received.has(probe); j += 1) await sleep(100);
      subscribed = received.has(probe);
      if (i > 60) throw new Error('the CDC stream never delivered a probe row');
    }
    log('cdc: stream and subscriber live');

    // 1. Latency at a fixed rate.
    /** Single-row transactions of `rowPad` at `latencyRate` for `seconds`: when each was sent and when its COMMIT reply came. */
    const offer = async (rowPad: string, seconds: number): Promise<{ committedAt: Map<number, number>; sentAt: Map<number, number>; failures: number; offeredSeconds: number }> => {
      const committedAt = new Map<number, number>();
      const sentAt = new Map<number, number>();
      let failures = 0;
      const latencyStart = nowMs();
      const inflight: Promise<void>[] = [];
      for (let sent = 0; sent < latencyRate * seconds; sent += 1) {
        const due = latencyStart + (sent * 1000) / latencyRate;
        const wait = due - nowMs();
        if (wait > 1) await sleep(wait);
        const sendMs = nowMs();
        inflight.push(
          writers.query<{ id: string }>('INSERT INTO bench_changes (pad) VALUES ($1) RETURNING id', [rowPad]).then(
            (r) => {
              const id = Number(r.rows[0]?.id);
              committedAt.set(id, nowMs());
              sentAt.set(id, sendMs);
            },
            () => void (failures += 1),
          ),
        );
        if (inflight.length >= 1000) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
      return { committedAt, sentAt, failures, offeredSeconds: (nowMs() - latencyStart) / 1000 };
    };
    /** Waits (up to 30 s) for every committed row to reach the subscriber, then: COMMIT reply → receipt, in ms (negative: before the reply). */
    const arrivals = async (committedAt: Map<number, number>): Promise<number[]> => {
      for (let i = 0; i < 300 && [...committedAt.keys()].some((id) => !received.has(id)); i += 1) await sleep(100);
      return [...committedAt].map(([id, at]) => (received.get(id) ?? Number.NaN) - at).filter(Number.isFinite);
    };
    /**
     * The latency phase. With `warmUpSeconds`, the same load runs that long first, unmeasured, and is delivered
     * before the measured part starts: the fan-out scenarios publish 3,000 events first for the same reason (a
     * process that has run a while has compiled its path). The warm-up's own figures are kept and reported.
     */
    const measureLatency = async (rowPad: string, seconds: number, warmUpSeconds = 0): Promise<CdcResult['latency']> => {
      let warmUp: CdcResult['latency']['warmUp'];
      if (warmUpSeconds > 0) {
        const cold = await offer(rowPad, warmUpSeconds);
        const signed = await arrivals(cold.committedAt);
        warmUp = { seconds: warmUpSeconds, committed: cold.committedAt.size, delivered: signed.length, latency: summarize(signed.map((l) => Math.max(0, l))) };
        log(`cdc: warm-up, ${warmUpSeconds} s at ${latencyRate} tx/s → from COMMIT reply p50 ${warmUp.latency.p50Ms.toFixed(1)} ms, p99 ${warmUp.latency.p99Ms.toFixed(1)} ms (${warmUp.delivered}/${warmUp.committed}; not measured)`);
      }
      const { committedAt, sentAt, failures, offeredSeconds } = await offer(rowPad, seconds);
      const lagAfterLatency = await slotLag();
      const signed = await arrivals(committedAt);
      const latencies = signed.map((l) => Math.max(0, l));
      const fromSend = [...sentAt].map(([id, at]) => (received.get(id) ?? Number.NaN) - at).filter(Number.isFinite);
      const result = {
        rate: latencyRate,
        seconds,
        ...(warmUp ? { warmUp } : {}),
        achievedTxPerSec: committedAt.size / offeredSeconds,
        delivered: latencies.length,
        committed: committedAt.size,
        failures,
        slotLagBytesAtEnd: lagAfterLatency,
        latency: summarize(latencies),
        arrivedBeforeCommitReplyShare: signed.filter((l) => l < 0).length / Math.max(1, signed.length),
        fromSend: summarize(fromSend),
      };
      log(
        `cdc: latency at ${latencyRate} tx/s, ${rowPad.length}-byte pad → from COMMIT reply p50 ${result.latency.p50Ms.toFixed(1)} ms, p99 ${result.latency.p99Ms.toFixed(1)} ms; ` +
          `from send p50 ${result.fromSend.p50Ms.toFixed(1)} ms, p99 ${result.fromSend.p99Ms.toFixed(1)} ms (${latencies.length}/${committedAt.size}; ${Math.round(result.arrivedBeforeCommitReplyShare * 100)}% arrived before the writer saw its COMMIT reply)`,
      );
      return result;
    };
    const pad = 'x'.repeat(100);
    const latency = await measureLatency(pad, latencySeconds, warmUpSeconds);

    // 2. Capacity: a burst; a raw decoder's slot is created first so it sees the same rows.
    /** `rows` rows of `rowPad` in transactions of 100 as fast as possible: ours' drain rate, then the raw decoder's over the same WAL. */
    const measureBurst = async (rows: number, rowPad: string): Promise<{ capacity: CdcResult['capacity']; rawDecode: CdcResult['rawDecode'] }> => {
      const raw = new pg.Client({ connectionString: sourceUrl, replication: 'database' } as pg.ClientConfig);
      await raw.connect();
      const rawSlot = `bench_raw_${sourceDb.slice(-10)}_${rowPad.length}`;
      await raw.query(`CREATE_REPLICATION_SLOT "${rawSlot}" LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      await raw.end();
      const before = received.size;
      const burstStart = nowMs();
      const lagSamples: number[] = [];
      const sampler = setInterval(() => void slotLag().then((l) => lagSamples.push(l), () => undefined), 500);
      const txs = rows / 100;
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < txs) {
            next += 1;
            await writers.query(`INSERT INTO bench_changes (pad) SELECT $1 FROM generate_series(1, 100)`, [rowPad]);
          }
        }),
      );
      const writtenMs = nowMs() - burstStart;
      for (let i = 0; i < 1200 && received.size - before < rows; i += 1) await sleep(100);
      clearInterval(sampler);
      const lastReceipt = Math.max(...[...received.values()].slice(-rows));
      const drainMs = lastReceipt - burstStart;
      const capacity = { rows, writeRowsPerSec: rows / (writtenMs / 1000), delivered: received.size - before, drainChangesPerSec: (received.size - before) / (drainMs / 1000), maxSlotLagBytes: Math.max(0, ...lagSamples) };
      log(`cdc: burst of ${rows} ${rowPad.length}-byte rows written at ${Math.round(capacity.writeRowsPerSec)}/s, delivered at ${Math.round(capacity.drainChangesPerSec)} changes/s`);

      // The raw decoder over the same WAL.
      const service = new replication.LogicalReplicationService({ connectionString: sourceUrl }, { acknowledge: { auto: true, timeoutSeconds: 1 } });
      let count = 0;
      let first = 0;
      let last = 0;
      service.on('data', (_lsn: string, message: { tag: string }) => {
        if (message.tag !== 'insert') return;
        if (count === 0) first = nowMs();
        count += 1;
        last = nowMs();
      });
      service.on('error', () => undefined);
      const started = nowMs();
      void service.subscribe(new replication.PgoutputPlugin({ protoVersion: 1, publicationNames: ['bench_raw'] }), rawSlot).catch(() => undefined);
      for (let i = 0; i < 600 && count < rows; i += 1) await sleep(100);
      await service.destroy();
      const rawDecode = { changes: count, changesPerSec: count / ((last - started) / 1000), firstChangeAfterMs: first - started };
      await admin.query('SELECT pg_drop_replication_slot($1)', [rawSlot]).catch(() => undefined);
      log(`cdc: raw decode of the same WAL: ${Math.round(rawDecode.changesPerSec)} changes/s`);
      return { capacity, rawDecode };
    };
    const { capacity, rawDecode: rawResult } = await measureBurst(burstRows, pad);

    // 3. Sustained: the highest rate with the lag not growing, looked for downwards from 80 % of the drain rate.
    const perTx = 50;
    const sustainAt = async (share: number): Promise<CdcResult['sustained']> => {
      const sustainRate = Math.max(100, Math.floor(capacity.drainChangesPerSec * share));
      const sustainStartCount = received.size;
      const sustainStart = nowMs();
      let written = 0;
      const pending: Promise<unknown>[] = [];
      while (nowMs() - sustainStart < sustainSeconds * 1000) {
        const due = sustainStart + (written / sustainRate) * 1000;
        const wait = due - nowMs();
        if (wait > 1) await sleep(wait);
        pending.push(writers.query(`INSERT INTO bench_changes (pad) SELECT $1 FROM generate_series(1, ${perTx})`, [pad]));
        written += perTx;
        if (pending.length >= 16) await Promise.all(pending.splice(0, 8));
      }
      await Promise.all(pending);
      const backlogAtEnd = written - (received.size - sustainStartCount);
      await sleep(2_000);
      const lagAfterSustain = await slotLag();
      const attempt = {
        shareOfDrainRate: share,
        offeredChangesPerSec: written / ((nowMs() - 2_000 - sustainStart) / 1000),
        seconds: sustainSeconds,
        backlogAtEnd,
        slotLagBytesTwoSecondsLater: lagAfterSustain,
        lagNotGrowing: backlogAtEnd <= sustainRate / 2 && lagAfterSustain < 1024 * 1024,
      };
      log(`cdc: sustained ${Math.round(attempt.offeredChangesPerSec)} changes/s (${Math.round(share * 100)} % of the drain rate) for ${sustainSeconds} s: backlog at end ${backlogAtEnd}, lag ${lagAfterSustain} B → ${attempt.lagNotGrowing ? 'keeps up' : 'falls behind'}`);
      // Whatever is left is delivered before the next attempt or phase starts.
      const deadline = nowMs() + 10_000;
      while (received.size - sustainStartCount < written && nowMs() < deadline) await sleep(100);
      return attempt;
    };
    const attempts: CdcResult['sustained'][] = [];
    for (const share of SUSTAIN_SHARES) {
      const attempt = await sustainAt(share);
      attempts.push(attempt);
      if (attempt.lagNotGrowing) break;
    }
    const sustained = { ...(attempts.find((a) => a.lagNotGrowing) ?? (attempts[attempts.length - 1] as CdcResult['sustained'])), attempts };

    // 4. Larger rows (random, so that TOAST compression does not shrink them): latency and a smaller burst each.
    const sizes: CdcResult['sizes'] = [];
    for (const rowBytes of [1024, 10 * 1024]) {
      const rowPad = randomBytes(rowBytes / 2).toString('hex');
      const sizeLatency = await measureLatency(rowPad, sizeSeconds);
      sizes.push({ rowBytes, latency: sizeLatency, ...(await measureBurst(sizeBurstRows, rowPad)) });
    }

    return { scenario: 'cdc', startedAt: startedAt.toISOString(), machine: machineInfo(), platform: options.platform.description, quick, latency, capacity, rawDecode: rawResult, sustained, sizes };
  } finally {
    await socket.client?.dispose();
    if (sourceId) {
      await gql(base, 'mutation($id: ID!) { deleteCdcSource(id: $id, force: true) }', { id: sourceId }, { cookie }).catch(() => undefined);
    }
    await server.stop(15_000);
    await writers.end().catch(() => undefined);
    const { rows } = await admin.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots WHERE database = $1', [sourceDb]).catch(() => ({ rows: [] as { slot_name: string }[] }));
    for (const row of rows) await admin.query('SELECT pg_drop_replication_slot($1)', [row.slot_name]).catch(() => undefined);
    await admin.end();
    await dropDatabase(sourceDb).catch(() => undefined);
    await dropDatabase(platformDb).catch(() => undefined);
    await deleteRedisPrefix(prefix).catch(() => undefined);
  }
}
