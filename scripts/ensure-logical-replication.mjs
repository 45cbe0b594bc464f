#!/usr/bin/env node
// Part of the test command: CDC tests need a PostgreSQL with wal_level=logical. When the configured
// server is the local one (127.0.0.1 / localhost) and runs with another wal_level, this sets it with
// ALTER SYSTEM (plus room for the slots and senders parallel tests open) and restarts the cluster with
// pg_ctlcluster. Against a remote server it only reports what is missing and fails.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import pg from 'pg';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const WANT = { wal_level: 'logical', max_replication_slots: 64, max_wal_senders: 64 };

async function settings() {
  const client = new pg.Client({ connectionString: url, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT name, setting FROM pg_settings WHERE name = ANY($1)`,
      [Object.keys(WANT)],
    );
    return { client: null, values: Object.fromEntries(rows.map((r) => [r.name, r.setting])) };
  } finally {
    await client.end();
  }
}

function satisfied(values) {
  return (
    values.wal_level === WANT.wal_level &&
    Number(values.max_replication_slots) >= WANT.max_replication_slots &&
    Number(values.max_wal_senders) >= WANT.max_wal_senders
  );
}

const { values } = await settings();
if (satisfied(values)) process.exit(0);

const host = new URL(url).hostname;
if (!['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host)) {
  console.error(
    `PostgreSQL at ${host} runs with wal_level=${values.wal_level}; CDC needs wal_level=logical ` +
      `(and max_replication_slots, max_wal_senders >= 64 for the parallel tests). Set them and restart it.`,
  );
  process.exit(1);
}

console.log(`postgres: setting wal_level=logical and restarting the local cluster (was ${values.wal_level})`);
const admin = new pg.Client({ connectionString: url, database: 'postgres' });
await admin.connect();
for (const [name, value] of Object.entries(WANT)) await admin.query(`ALTER SYSTEM SET ${name} = '${value}'`);
await admin.end();

const version = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1);
execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { stdio: 'inherit' });
for (let i = 0; i < 60; i += 1) {
  try {
    const { values: after } = await settings();
    if (satisfied(after)) process.exit(0);
    console.error(`postgres restarted but still runs with ${JSON.stringify(after)}`);
    process.exit(1);
  } catch {
    await new Promise((r) => setTimeout(r, 500));
  }
}
console.error('postgres did not come back within 30 s after the restart');
process.exit(1);
