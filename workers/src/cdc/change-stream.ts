import replication from 'pg-logical-replication';
import type { Pgoutput } from 'pg-logical-replication';
import {
  columnValue,
  connectSource,
  createSlot,
  deterministicEventId,
  ensureCdcTopic,
  findCdcSource,
  ensurePublication,
  formatLsn,
  parseLsn,
  parseTableName,
  publicationName,
  publishPlatformEvent,
  readColumns,
  readSlot,
  reportCdcSource,
  requestCdcSnapshot,
  slotLost,
  slotName,
  type CdcSource,
  type CdcOperationName,
  type CdcTable,
  type ChangeEventData,
  type ColumnInfo,
  type Platform,
  type PreparedPublish,
} from '@realtime/core';
import type { WorkerLog } from '../log.js';
import { prepareOutboxRow, type OutboxRow } from '../outbox/outbox-row.js';
import { takeSnapshot } from './snapshot.js';

const { LogicalReplicationService, PgoutputPlugin } = replication;

/** A running consumer of one source's replication slot. */
export interface ChangeStream {
  /** Resolves when the stream ended: stopped, or failed (with the error). */
  readonly ended: Promise<Error | undefined>;
  /**
   * Loads every captured row as op `read`, ordered between the changes committed before and after it, and
   * records `request` (CdcSource.snapshotRequests as read) as done. A request already done (read before the
   * last snapshot finished) is ignored.
   */
  snapshot(request: number): Promise<void>;
  /** Stops streaming; nothing unconfirmed is acknowledged. */
  stop(): Promise<void>;
}

export interface ChangeStreamOptions {
  platform: Platform;
  source: CdcSource;
  /** The opened connection string of the captured database. */
  connectionString: string;
  /** How often an idle consumer asks for a keepalive and confirms the server's position. */
  heartbeatMs: number;
  /** How often slot lag and status are measured and reported. */
  reportMs: number;
  log: WorkerLog;
}

/** Captured tables by `schema.table`, with the columns last seen in the catalog. */
interface TableState {
  config: CdcTable;
  schema: string;
  table: string;
  columns: ColumnInfo[];
  /** Column names of the last schema registered, to notice added or dropped columns. */
  signature: string;
}

/** Changes sent to Redis and not yet acknowledged, at most; the stream waits for room above this. */
const MAX_IN_FLIGHT = 256;

const signatureOf = (columns: readonly ColumnInfo[]): string => columns.map((c) => `${c.name}:${c.typeOid}:${c.notNull}`).join(',');

/**
 * Streams one source: publication and slot in its database (created when missing), pgoutput over the
 * streaming replication protocol, every change published through the publish path in commit order.
 *
 * Pipelining: each change is validated before the next message is read (a bad change stops the stream
 * there, and nothing after it is sent), then sent to Redis without waiting for the reply; up to
 * MAX_IN_FLIGHT changes are on the wire at once, in order on one connection.
 *
 * Acknowledgement: the slot's confirmed position moves only to a commit whose changes, and every change
 * before them, are stored in history (their sends resolved), or, when nothing is outstanding, to the
 * position of a keepalive (so an idle source does not pin WAL). The library's auto-acknowledge is off;
 * positions are sent exactly (the library adds one to what it is given, so it is given the position minus
 * one).
 *
 * A lost slot (invalidated, or dropped while the source had a position) is never resumed: the stream
 * reports ERROR, publishes `realtime.cdc.source.gap`, drops the dead slot, creates a fresh one and takes a
 * snapshot.
 */
export async function startChangeStream(options: ChangeStreamOptions): Promise<ChangeStream> {
  const { platform, source, connectionString, heartbeatMs, reportMs, log } = options;
  const scope = { applicationId: source.applicationId, environment: source.environment };
  const slot = slotName(source.id);
  const admin = await connectSource(connectionString);
  const tables = new Map<string, TableState>();
  const outbox = source.outboxMode === 'STREAM' && source.outboxTable ? parseTableName(source.outboxTable) : undefined;
  const outboxKey = outbox ? `${outbox.schema}.${outbox.table}` : undefined;
  const topicDeps = { pool: platform.pool, registry: platform.registry, announce: platform.announce.bind(platform) };

  let endedResolve: (error: Error | undefined) => void = () => undefined;
  const ended = new Promise<Error | undefined>((resolve) => (endedResolve = resolve));
  let finished = false;
  const timers: NodeJS.Timeout[] = [];
  let service: InstanceType<typeof LogicalReplicationService> | undefined;

  async function finish(error: Error | undefined): Promise<void> {
    if (finished) return;
    finished = true;
    for (const timer of timers) clearInterval(timer);
    await service?.destroy().catch(() => undefined);
    await admin.end().catch(() => undefined);
    endedResolve(error);
  }

  try {
    for (const config of source.tables) {
      const name = parseTableName(config.table);
      const columns = await readColumns(admin, name);
      if (!columns) throw new Error(`table ${config.table} no longer exists in the source database`);
      await ensureCdcTopic(topicDeps, scope, config, columns);
      tables.set(`${name.schema}.${name.table}`, { config, ...name, columns, signature: signatureOf(columns) });
    }
    await ensurePublication(admin, source.id, [...tables.values(), ...(outbox ? [outbox] : [])]);

    // The slot: reuse it, create it, or, when it was lost, say so and start afresh.
    const state = await readSlot(admin, slot);
    let snapshotRequest = source.snapshotRequested ? source.snapshotRequests : 0;
    if (state === undefined || slotLost(state)) {
      // A source paused or deleted meanwhile (deleteCdcSource drops the slot) gets no gap and no new slot.
      const current = await findCdcSource(platform.pool, source.id);
      if (!current || current.paused) throw new Error('the source was paused or deleted while starting');
      if (state !== undefined || source.confirmedLsn !== null) {
        const reason =
          state === undefined
            ? `replication slot ${slot} no longer exists (dropped outside the platform); changes after ${source.confirmedLsn ?? 'the last confirmed position'} may be missing`
            : `replication slot ${slot} was invalidated (wal_status=lost, max_slot_wal_keep_size exceeded); changes after ${source.confirmedLsn ?? 'the last confirmed position'} are missing`;
        log('error', 'cdc slot lost', { sourceId: source.id, reason });
        await reportCdcSource(platform.pool, source.id, { status: 'ERROR', lastError: `${reason}; recovering with a fresh slot and snapshot` });
        await publishPlatformEvent({ ...topicDeps, publisher: platform.publisher }, scope, {
          topic: 'realtime.cdc.source.gap',
          subject: source.id,
          data: { sourceId: source.id, name: source.name, reason },
        });
        if (state !== undefined) await admin.query('SELECT pg_drop_replication_slot($1)', [slot]);
      }
      await reportCdcSource(platform.pool, source.id, { confirmedLsn: await createSlot(connectionString, source.id) });
      // After a gap, the rows' state comes back through a fresh snapshot.
      if (state !== undefined || source.confirmedLsn !== null) snapshotRequest = await requestCdcSnapshot(platform.pool, source.id);
    }

    // Streaming state.
    let confirmed = parseLsn((await readSlot(admin, slot))?.confirmedLsn ?? '0/0');
    let received = 0;
    let processed = 0;
    let inTransaction = false;
    let caughtUpAt = source.caughtUpAt ?? new Date();
    let failed = false;
    let transaction: { xid: number; commitLsn: string; commitTime: string; commitMs: number; position: number } | undefined;
    // Snapshot ordering: commits at or after `barrier` wait until the snapshot is published.
    let barrier: { lsn: bigint | undefined; known: Promise<void>; reached: () => void; released: Promise<void> } | undefined;
    let snapshotting = false;
    let lastSnapshotDone = 0;
    // The pipeline: `settled` resolves once every change sent so far is stored (or the stream failed).
    let inFlight = 0;
    let settled: Promise<void> = Promise.resolve();
    let room: (() => void) | undefined;
    /** Nothing read is still being handled or waiting for Redis. */
    const idle = (): boolean => processed === received && !inTransaction && inFlight === 0;

    /**
     * Values arrive as text; they are converted like snapshot values (pg-types.ts), not with pg's global
     * parsers. Type names come from the catalog (the relation message names only non-built-in types).
     */
    const installParsers = (relation: Pgoutput.MessageRelation, columns: readonly ColumnInfo[] | undefined): void => {
      for (const column of relation.columns) {
        const typeName = columns?.find((c) => c.name === column.name)?.typeName ?? column.typeName ?? '';
        column.parser = (text: unknown) => columnValue(column.typeOid, typeName, text as string | null);
      }
    };

    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publicationName(source.id)] });
    const parse = plugin.parse.bind(plugin);
    plugin.parse = (buffer: Buffer): Pgoutput.Message => {
      received += 1;
      const message = parse(buffer);
      if (message.tag === 'relation') installParsers(message, tables.get(`${message.schema}.${message.name}`)?.columns);
      return message;
    };

    service = new LogicalReplicationService(
      { connectionString },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    const live = service;
    const confirm = (lsn: bigint, ping = false): void => {
      if (lsn > confirmed) confirmed = lsn;
      // The library sends the position it is given plus one; give it the position minus one.
      void live.acknowledge(formatLsn(confirmed > 0n ? confirmed - 1n : 0n), ping).catch(() => undefined);
    };

    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      log('error', 'cdc stream failed', { sourceId: source.id, error: error.message });
      void reportCdcSource(platform.pool, source.id, { status: 'ERROR', lastError: error.message }).catch(() => undefined);
      void finish(error);
    };

    /** Sends a validated change now; the stream fails if Redis does not store it. */
    const send = async (prepared: PreparedPublish): Promise<void> => {
      if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (room = resolve));
      if (failed) throw new Error('the replication stream failed');
      inFlight += 1;
      const stored = prepared().then(
        () => {
          inFlight -= 1;
          if (idle()) caughtUpAt = new Date();
          if (room && inFlight < MAX_IN_FLIGHT / 2) {
            const wake = room;
            room = undefined;
            wake();
          }
        },
        (error: unknown) => {
          inFlight -= 1;
          fail(error as Error);
          room?.();
        },
      );
      settled = Promise.all([settled, stored]).then(() => undefined);
    };

    /** Resolves when every change sent so far is stored; rejects when the stream failed meanwhile. */
    const drain = async (): Promise<void> => {
      await settled;
      if (failed) throw new Error('the replication stream failed');
    };

    const publishChange = async (state: TableState, op: ChangeEventData['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null): Promise<void> => {
      const tx = transaction as NonNullable<typeof transaction>;
      const pick = (row: Record<string, unknown> | null): Record<string, unknown> | null => {
        if (row === null || state.config.columns === null) return row;
        return Object.fromEntries(Object.entries(row).filter(([k]) => state.config.columns?.includes(k)));
      };
      const data: ChangeEventData = {
        op,
        schema: state.schema,
        table: state.table,
        before: pick(before),
        after: pick(after),
        lsn: tx.commitLsn,
        commitTime: tx.commitTime,
        txId: tx.xid,
      };
      await send(
        await platform.publisher.prepareSystem(scope, {
          topic: state.config.topic,
          data,
          id: deterministicEventId(tx.commitMs, source.id, tx.commitLsn, tx.position),
          source: `/cdc/${source.id}`,
        }),
      );
    };

    const handle = async (message: Pgoutput.Message): Promise<void> => {
      switch (message.tag) {
        case 'begin': {
          const commitLsn = formatLsn(parseLsn(message.commitLsn ?? '0/0'));
          if (barrier) {
            await barrier.known;
            if (barrier?.lsn !== undefined && parseLsn(commitLsn) >= barrier.lsn) {
              await drain(); // the snapshot follows every change before it in history
              barrier.reached();
              await barrier.released;
            }
          }
          const micros = message.commitTime as bigint;
          const commitMs = Number(micros / 1000n);
          inTransaction = true;
          transaction = {
            xid: message.xid,
            commitLsn,
            commitTime: `${new Date(commitMs).toISOString().slice(0, 19)}.${(micros % 1_000_000n).toString().padStart(6, '0')}Z`,
            commitMs,
            position: 0,
          };
          return;
        }
        case 'relation': {
          const key = `${message.schema}.${message.name}`;
          const state = tables.get(key);
          if (!state) return;
          const columns = await readColumns(admin, state);
          if (columns && signatureOf(columns) !== state.signature) {
            // A column was added (or changed): register the new schema version before its first change.
            await ensureCdcTopic(topicDeps, scope, state.config, columns);
            state.columns = columns;
            state.signature = signatureOf(columns);
            installParsers(message, columns);
          }
          return;
        }
        case 'insert':
        case 'update':
        case 'delete': {
          if (!transaction) return;
          transaction.position += 1;
          const key = `${message.relation.schema}.${message.relation.name}`;
          if (key === outboxKey) {
            if (message.tag === 'insert') await send(await prepareOutboxRow(platform, source, message.new as OutboxRow));
            return;
          }
          const state = tables.get(key);
          if (!state || !state.config.operations.includes(message.tag.toUpperCase() as CdcOperationName)) return;
          if (message.tag === 'insert') await publishChange(state, 'insert', null, message.new);
          else if (message.tag === 'update') await publishChange(state, 'update', message.old ?? message.key, message.new);
          else await publishChange(state, 'delete', message.old ?? message.key, null);
          return;
        }
        case 'commit': {
          inTransaction = false;
          transaction = undefined;
          // Once every change of the transaction (and before it) is stored, the slot may forget them.
          const end = parseLsn(message.commitEndLsn ?? '0/0');
          if (inFlight === 0) {
            if (!failed) confirm(end);
          } else {
            void settled.then(() => failed || confirm(end));
          }
          return;
        }
        default:
          return; // truncate, origin, type, message: not captured
      }
    };

    service.on('data', async (_lsn: string, message: Pgoutput.Message) => {
      if (failed) return;
      try {
        await handle(message);
        processed += 1;
        if (idle()) caughtUpAt = new Date();
      } catch (error) {
        fail(error as Error);
      }
    });
    service.on('heartbeat', (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (failed) return;
      if (idle()) {
        // Nothing outstanding: everything up to the server's position is handled and stored.
        confirm(parseLsn(lsn));
        caughtUpAt = new Date();
        if (barrier?.lsn !== undefined && parseLsn(lsn) >= barrier.lsn) barrier.reached();
      } else if (shouldRespond) {
        confirm(confirmed);
      }
    });
    service.on('error', (error: Error) => fail(error));

    const startAt = formatLsn(confirmed);
    void service.subscribe(plugin, slot, startAt).then(
      () => {
        if (!finished) fail(new Error('the replication stream ended'));
      },
      (error: unknown) => fail(error as Error),
    );

    // A status update every heartbeat, busy or not: while the stream is paused (flow control, a snapshot
    // holding commits) keepalives are not read, and without replies the server would end the connection
    // after wal_sender_timeout. When idle it also asks for a keepalive, which confirms the server position.
    timers.push(
      setInterval(() => {
        if (!failed) confirm(confirmed, idle());
      }, heartbeatMs),
    );
    let reporting = false;
    const report = async (): Promise<void> => {
      if (reporting || failed) return;
      reporting = true;
      try {
        const current = await readSlot(admin, slot);
        if (slotLost(current)) {
          fail(new Error(`replication slot ${slot} was lost while streaming`));
          return;
        }
        await reportCdcSource(platform.pool, source.id, {
          ...(barrier ? {} : { status: 'RUNNING' as const }),
          confirmedLsn: formatLsn(confirmed),
          lagBytes: current?.lagBytes ?? null,
          caughtUpAt,
          ...(barrier ? {} : { lastError: null }),
        });
      } catch {
        // A failed measurement is retried at the next interval; the stream itself reports real failures.
      } finally {
        reporting = false;
      }
    };
    timers.push(setInterval(() => void report(), reportMs));
    void report();

    const stream: ChangeStream = {
      ended,
      async snapshot(request) {
        if (failed || snapshotting || request <= lastSnapshotDone) return;
        snapshotting = true;
        let reached: () => void = () => undefined;
        const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
        let release: () => void = () => undefined;
        const released = new Promise<void>((resolve) => (release = resolve));
        let know: () => void = () => undefined;
        const known = new Promise<void>((resolve) => (know = resolve));
        // From now until the snapshot's position is known, commits wait: any commit not yet begun may come
        // after that position, and must then follow the snapshot's rows.
        const gate: NonNullable<typeof barrier> = { lsn: undefined, known, reached, released };
        barrier = gate;
        try {
          await reportCdcSource(platform.pool, source.id, { status: 'SNAPSHOTTING' });
          await takeSnapshot({
            platform,
            source,
            connectionString,
            tables: [...tables.values()].map((t) => ({ config: t.config, schema: t.schema, table: t.table, columns: t.columns })),
            // Publish the rows only once every change committed before the snapshot is published, and hold
            // later commits until the rows are out: history then reads changes, snapshot, changes.
            waitForPosition: async (lsn) => {
              gate.lsn = lsn;
              know();
              if (confirmed >= lsn) reached();
              confirm(confirmed, true); // ask for a keepalive, which reaches the barrier when idle
              await Promise.race([reachedPromise, ended]);
              if (failed) throw new Error('the replication stream failed during the snapshot');
            },
          });
          await reportCdcSource(platform.pool, source.id, { status: 'RUNNING', snapshotDone: request, lastSnapshotAt: new Date(), lastError: null });
          lastSnapshotDone = request;
        } catch (error) {
          fail(error as Error);
        } finally {
          barrier = undefined;
          snapshotting = false;
          know();
          release();
        }
      },
      async stop() {
        await finish(undefined);
      },
    };
    if (snapshotRequest > 0) void stream.snapshot(snapshotRequest);
    return stream;
  } catch (error) {
    await finish(error as Error);
    throw error;
  }
}
