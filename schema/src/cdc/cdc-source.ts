import {
  CDC_OPERATIONS,
  RealtimeError,
  assertTopicName,
  badInput,
  checkSource,
  connectSource,
  createSlot,
  deleteCdcSourceRow,
  dropSourceObjects,
  ensureCdcTopic,
  ensurePublication,
  findApplication,
  findCdcSource,
  insertCdcSource,
  lagSeconds,
  listCdcSources,
  notFound,
  parseTableName,
  publicationName,
  readSlot,
  reportCdcSource,
  requestCdcSnapshot,
  requireAdminOf,
  setCdcSourcePaused,
  slotName,
  usesReplication,
  type CdcOperationName,
  type CdcSource,
  type CdcTable,
  type OutboxMode,
} from '@realtime/core';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { EnvironmentNameEnum } from '../apps/enums.js';

const CdcOperationEnum = builder.enumType('CdcOperation', {
  description: 'A row change a captured table publishes (snapshots add `read` events regardless).',
  values: CDC_OPERATIONS,
});

const CdcSourceStatusEnum = builder.enumType('CdcSourceStatus', {
  values: {
    STARTING: { description: 'Waiting for a worker (the `cdc` or `outbox` role) to take the source.' },
    SNAPSHOTTING: { description: 'Publishing existing rows as op `read`; changes committed meanwhile follow the snapshot.' },
    RUNNING: { description: 'Streaming (or polling the outbox).' },
    PAUSED: { description: 'Paused by pauseCdcSource: nothing is read, and the slot keeps WAL until resumed.' },
    ERROR: {
      description:
        'The last attempt failed (lastError says why); it is retried every poll. A lost slot also passes through ERROR, publishes realtime.cdc.source.gap, and recovers with a fresh slot and snapshot.',
    },
  },
});

const OutboxModeEnum = builder.enumType('OutboxMode', {
  values: {
    STREAM: { description: 'Rows are read from the replication stream (insert-only; needs wal_level=logical). Rows are not deleted.' },
    POLL: { description: 'Rows are polled without logical replication and deleted once stored in history.' },
  },
});

const CdcTableRef = builder.objectRef<CdcTable>('CdcTable').implement({
  description: 'A captured table and the topic its changes are published to.',
  fields: (t) => ({
    table: t.exposeString('table', { description: '`schema.table`.' }),
    topic: t.exposeString('topic'),
    columns: t.exposeStringList('columns', { nullable: true, description: 'Captured columns; null means all.' }),
    operations: t.field({ type: [CdcOperationEnum], resolve: (table) => table.operations }),
  }),
});

const CdcOutboxRef = builder.objectRef<{ table: string; mode: OutboxMode }>('CdcOutbox').implement({
  fields: (t) => ({
    table: t.exposeString('table'),
    mode: t.field({ type: OutboxModeEnum, resolve: (o) => o.mode }),
  }),
});

interface LagShape {
  bytes: number | null;
  seconds: number;
  confirmedLsn: string | null;
  measuredAt: Date | null;
  warningBytes: number;
  warningSeconds: number;
}

const CdcLagRef = builder.objectRef<LagShape>('CdcLag').implement({
  description:
    'How far the source’s replication slot is behind the database. `bytes`: WAL between the slot’s confirmed position and the server’s; `seconds`: time since the consumer last had nothing outstanding.',
  fields: (t) => ({
    bytes: t.float({ nullable: true, resolve: (l) => l.bytes }),
    seconds: t.exposeInt('seconds'),
    confirmedLsn: t.exposeString('confirmedLsn', { nullable: true }),
    measuredAt: t.field({ type: 'DateTime', nullable: true, resolve: (l) => l.measuredAt }),
    warning: t.boolean({
      description: 'True when bytes pass REALTIME_CDC_LAG_WARNING_BYTES or seconds pass REALTIME_CDC_LAG_WARNING_SECONDS.',
      resolve: (l) => (l.bytes ?? 0) > l.warningBytes || l.seconds > l.warningSeconds,
    }),
    warningBytes: t.float({ resolve: (l) => l.warningBytes }),
    warningSeconds: t.exposeInt('warningSeconds'),
  }),
});

/** Lag as last reported by the worker; measured live when the report is stale (paused, no worker). */
async function lagOf(source: CdcSource, context: GraphQLContext): Promise<LagShape> {
  const { config } = context.platform;
  const lag: LagShape = {
    bytes: source.lagBytes,
    seconds: lagSeconds(source),
    confirmedLsn: source.confirmedLsn,
    measuredAt: source.lagMeasuredAt,
    warningBytes: config.cdcLagWarningBytes,
    warningSeconds: config.cdcLagWarningSeconds,
  };
  const stale = !source.lagMeasuredAt || Date.now() - source.lagMeasuredAt.getTime() > 3 * config.cdcPollMs;
  if (!usesReplication(source) || !stale) return lag;
  try {
    const client = await connectSource(context.platform.secrets.open(source.connectionStringEncrypted));
    try {
      const slot = await readSlot(client, slotName(source.id));
      if (slot) return { ...lag, bytes: slot.lagBytes, confirmedLsn: slot.confirmedLsn, measuredAt: new Date() };
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch {
    // Unreachable right now: the last report stands.
  }
  return lag;
}

export const CdcSourceRef = builder.objectRef<CdcSource>('CdcSource').implement({
  description:
    'A database captured into topics: row changes of its tables by logical replication, and rows of its outbox table. Its connection string is stored encrypted and never returned.',
  fields: (t) => ({
    id: t.exposeID('id'),
    applicationId: t.exposeID('applicationId'),
    environment: t.field({ type: EnvironmentNameEnum, resolve: (s) => s.environment }),
    name: t.exposeString('name'),
    tables: t.field({ type: [CdcTableRef], resolve: (s) => s.tables }),
    outbox: t.field({
      type: CdcOutboxRef,
      nullable: true,
      resolve: (s) => (s.outboxTable && s.outboxMode ? { table: s.outboxTable, mode: s.outboxMode } : null),
    }),
    status: t.field({ type: CdcSourceStatusEnum, resolve: (s) => s.status }),
    paused: t.exposeBoolean('paused'),
    snapshotRequested: t.exposeBoolean('snapshotRequested', { description: 'A snapshot is asked for and not yet complete.' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastErrorAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.lastErrorAt }),
    lastSnapshotAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.lastSnapshotAt }),
    lag: t.field({ type: CdcLagRef, resolve: (s, _args, context) => lagOf(s, context) }),
    slotName: t.string({ nullable: true, description: 'The replication slot the platform owns in the database.', resolve: (s) => (usesReplication(s) ? slotName(s.id) : null) }),
    publicationName: t.string({ nullable: true, resolve: (s) => (usesReplication(s) ? publicationName(s.id) : null) }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
  }),
});

const CdcTableInput = builder.inputType('CdcTableInput', {
  fields: (t) => ({
    table: t.string({ required: true, description: '`schema.table` (a bare name means `public`).' }),
    topic: t.string({ required: true, description: 'Topic the changes are published to; registered (or versioned) with a schema generated from the columns.' }),
    columns: t.stringList({ description: 'Columns carried in before/after. Default: all.' }),
    operations: t.field({ type: [CdcOperationEnum], description: 'Default: INSERT, UPDATE, DELETE.' }),
  }),
});

const CdcOutboxInput = builder.inputType('CdcOutboxInput', {
  fields: (t) => ({
    table: t.string({ description: 'Default `public.realtime_outbox`.' }),
    mode: t.field({ type: OutboxModeEnum, description: 'Default STREAM.' }),
  }),
});

const CreateCdcSourceInput = builder.inputType('CreateCdcSourceInput', {
  fields: (t) => ({
    applicationId: t.id({ required: true }),
    environment: t.field({ type: EnvironmentNameEnum, required: true }),
    name: t.string({ required: true }),
    connectionString: t.string({ required: true, description: 'postgres://… of a role with REPLICATION that owns the tables. Stored encrypted.' }),
    tables: t.field({ type: [CdcTableInput], description: 'Tables to capture. Default none (an outbox alone).' }),
    outbox: t.field({ type: CdcOutboxInput, description: 'Relay an outbox table of this database.' }),
    snapshot: t.boolean({ description: 'Publish existing rows as op `read` first. Default true.' }),
  }),
});

async function sourceOrThrow(context: GraphQLContext, id: string): Promise<CdcSource> {
  const source = await findCdcSource(context.platform.pool, id);
  const { principal } = context;
  // Another tenant's source is indistinguishable from a missing one.
  if (!source || (principal.kind === 'key' && (principal.applicationId !== source.applicationId || principal.environment !== source.environment))) {
    throw notFound(`CDC source ${id} does not exist`);
  }
  requireAdminOf(principal, source.applicationId, source.environment);
  return source;
}

function normalizeTables(input: readonly { table: string; topic: string; columns?: string[] | null; operations?: CdcOperationName[] | null }[]): CdcTable[] {
  const seen = new Set<string>();
  return input.map((entry, i) => {
    const name = parseTableName(entry.table);
    const table = `${name.schema}.${name.table}`;
    if (seen.has(table)) throw badInput(`tables[${i}]: ${table} is listed twice`, { field: 'tables' });
    seen.add(table);
    assertTopicName(entry.topic, `tables[${i}].topic`);
    if (entry.columns && entry.columns.length === 0) throw badInput(`tables[${i}].columns must name at least one column, or be omitted for all`, { field: 'columns' });
    const operations = [...new Set(entry.operations ?? CDC_OPERATIONS)];
    if (operations.length === 0) throw badInput(`tables[${i}].operations must name at least one operation`, { field: 'operations' });
    return { table, topic: entry.topic, columns: entry.columns ?? null, operations };
  });
}

const OUTBOX_COLUMNS = ['id', 'topic', 'subject', 'data', 'created_at'];

builder.mutationField('createCdcSource', (t) =>
  t.field({
    type: CdcSourceRef,
    description:
      'Captures a database: checks it (wal_level, REPLICATION, tables, outbox table), registers each table’s topic with a schema generated from its columns, creates the publication and replication slot, and stores the connection string encrypted. A worker then snapshots (unless snapshot: false) and streams. Fails with SOURCE_NOT_READY, leaving nothing behind, when the database is not ready.',
    args: { input: t.arg({ type: CreateCdcSourceInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const { platform } = context;
      const scope = { applicationId: String(input.applicationId), environment: input.environment };
      requireAdminOf(context.principal, scope.applicationId, scope.environment);
      if (!(await findApplication(platform.pool, scope.applicationId))) throw notFound(`application ${scope.applicationId} does not exist`);
      const tables = normalizeTables(input.tables ?? []);
      const outboxMode: OutboxMode | null = input.outbox ? (input.outbox.mode ?? 'STREAM') : null;
      const outboxName = input.outbox ? parseTableName(input.outbox.table ?? 'public.realtime_outbox') : null;
      const outboxTable = outboxName ? `${outboxName.schema}.${outboxName.table}` : null;
      if (tables.length === 0 && !outboxName) throw badInput('name at least one table, or an outbox', { field: 'tables' });
      if (outboxTable && tables.some((tb) => tb.table === outboxTable)) throw badInput(`${outboxTable} is the outbox; do not also capture it as a table`, { field: 'outbox' });
      if ((await listCdcSources(platform.pool, scope)).some((s) => s.name === input.name.trim())) {
        throw new RealtimeError('CONFLICT', `a CDC source named "${input.name.trim()}" already exists in ${scope.environment}`, { field: 'name' });
      }
      const logical = tables.length > 0 || outboxMode === 'STREAM';
      const client = await connectSource(input.connectionString);
      let created: CdcSource | undefined;
      try {
        const columns = await checkSource(client, { logical, tables: [...tables.map((tb) => parseTableName(tb.table)), ...(outboxName ? [outboxName] : [])] });
        if (outboxTable) {
          const names = (columns.get(outboxTable) ?? []).map((c) => c.name);
          const missing = OUTBOX_COLUMNS.filter((c) => !names.includes(c));
          if (missing.length > 0) {
            throw new RealtimeError('SOURCE_NOT_READY', `outbox table ${outboxTable} lacks column ${missing.join(', ')}; create it as the README shows`, { field: 'outbox' });
          }
        }
        for (const table of tables) await ensureCdcTopic({ ...platform, announce: platform.announce.bind(platform) }, scope, table, columns.get(table.table) ?? []);
        created = await insertCdcSource(platform.pool, {
          ...scope,
          name: input.name,
          connectionStringEncrypted: platform.secrets.seal(input.connectionString),
          tables,
          outboxTable,
          outboxMode,
          snapshot: tables.length > 0 && input.snapshot !== false,
        });
        if (logical) {
          const captured = [...tables.map((tb) => parseTableName(tb.table)), ...(outboxMode === 'STREAM' && outboxName ? [outboxName] : [])];
          try {
            await ensurePublication(client, created.id, captured);
          } catch (error) {
            throw new RealtimeError('SOURCE_NOT_READY', `cannot create the publication: ${(error as Error).message} (the role must own the tables)`, { field: 'connectionString' });
          }
          // The slot exists before this returns: every change committed from now on is captured.
          const confirmedLsn = await createSlot(input.connectionString, created.id);
          await reportCdcSource(platform.pool, created.id, { confirmedLsn });
          return { ...created, confirmedLsn };
        }
        return created;
      } catch (error) {
        if (created) {
          await dropSourceObjects(client, created.id).catch(() => undefined);
          await deleteCdcSourceRow(platform.pool, created.id);
        }
        throw error;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  }),
);

builder.mutationField('pauseCdcSource', (t) =>
  t.field({
    type: CdcSourceRef,
    description: 'Stops reading the source within one poll. The slot keeps WAL while paused: watch lag.bytes.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const source = await sourceOrThrow(context, String(args.id));
      await setCdcSourcePaused(context.platform.pool, source.id, true);
      return (await findCdcSource(context.platform.pool, source.id)) as CdcSource;
    },
  }),
);

builder.mutationField('resumeCdcSource', (t) =>
  t.field({
    type: CdcSourceRef,
    description: 'Resumes a paused source from its slot’s confirmed position: no change is lost while paused (unless the slot was lost meanwhile).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const source = await sourceOrThrow(context, String(args.id));
      await setCdcSourcePaused(context.platform.pool, source.id, false);
      return (await findCdcSource(context.platform.pool, source.id)) as CdcSource;
    },
  }),
);

builder.mutationField('snapshotCdcSource', (t) =>
  t.field({
    type: CdcSourceRef,
    description:
      'Publishes every captured row as op `read`, consistent with the stream: changes committed before the snapshot come before its rows, later ones after.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const source = await sourceOrThrow(context, String(args.id));
      if (source.tables.length === 0) throw badInput('this source captures no tables (an outbox alone has nothing to snapshot)', { field: 'id' });
      await requestCdcSnapshot(context.platform.pool, source.id);
      return (await findCdcSource(context.platform.pool, source.id)) as CdcSource;
    },
  }),
);

builder.mutationField('deleteCdcSource', (t) =>
  t.field({
    type: 'ID',
    description:
      'Stops the source and drops its replication slot and publication in the database, then forgets it. When the database is unreachable this fails with SOURCE_NOT_READY and changes nothing, unless force: true (the slot then stays behind: drop it with pg_drop_replication_slot).',
    args: { id: t.arg.id({ required: true }), force: t.arg.boolean() },
    resolve: async (_root, args, context) => {
      const source = await sourceOrThrow(context, String(args.id));
      const { pool } = context.platform;
      let client: Awaited<ReturnType<typeof connectSource>> | undefined;
      try {
        client = await connectSource(context.platform.secrets.open(source.connectionStringEncrypted));
      } catch (error) {
        if (args.force !== true) throw error;
      }
      try {
        // Workers stop within a poll; dropping the slot also ends a walsender still holding it.
        await setCdcSourcePaused(pool, source.id, true);
        if (client) await dropSourceObjects(client, source.id);
        await deleteCdcSourceRow(pool, source.id);
      } catch (error) {
        await setCdcSourcePaused(pool, source.id, source.paused).catch(() => undefined);
        throw error;
      } finally {
        await client?.end().catch(() => undefined);
      }
      return source.id;
    },
  }),
);

builder.queryField('cdcSources', (t) =>
  t.field({
    type: [CdcSourceRef],
    description: 'The CDC sources of one application environment, by name.',
    args: { applicationId: t.arg.id({ required: true }), environment: t.arg({ type: EnvironmentNameEnum, required: true }) },
    resolve: (_root, args, { platform, principal }) => {
      requireAdminOf(principal, String(args.applicationId), args.environment);
      return listCdcSources(platform.pool, { applicationId: String(args.applicationId), environment: args.environment });
    },
  }),
);

builder.queryField('cdcSource', (t) =>
  t.field({
    type: CdcSourceRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      try {
        return await sourceOrThrow(context, String(args.id));
      } catch (error) {
        if (error instanceof RealtimeError && error.code === 'NOT_FOUND') return null;
        throw error;
      }
    },
  }),
);
