/**
 * Prints the base GraphQL schema to a file (`schema.graphql`), or with `--check` fails when the
 * committed file differs from what the code builds, so a stale schema never lands.
 * With `--topics <file.json>` it prints an application environment's schema for those topics instead:
 * exactly what `realtime schema export` prints for an environment with that registry (used by examples/).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { topicFieldName, type Topic } from '@realtime/core';
import { printApplicationSchema, printBaseSchema } from '@realtime/schema';

const args = process.argv.slice(2);
const check = args.includes('--check');
const topicsIndex = args.indexOf('--topics');
const topicsFile = topicsIndex >= 0 ? args[topicsIndex + 1] : undefined;
const file = args.find((a, i) => !a.startsWith('--') && i !== topicsIndex + 1) ?? 'schema.graphql';

interface TopicFixture {
  name: string;
  description?: string;
  schemaVersion: number;
  schema: Record<string, unknown>;
}

function fixtureTopics(path: string): Topic[] {
  const fixtures = JSON.parse(readFileSync(path, 'utf8')) as TopicFixture[];
  return fixtures.map((f) => ({
    id: f.name,
    applicationId: 'example',
    environment: 'DEV',
    name: f.name,
    fieldName: topicFieldName(f.name),
    description: f.description ?? null,
    schemaVersion: f.schemaVersion,
    schema: f.schema,
    compatibility: 'BACKWARD',
    retentionMaxEvents: 10_000,
    retentionMaxAgeSeconds: 86_400,
    access: 'PUBLIC',
    claimFilters: [],
    clientMessages: false,
    createdAt: new Date(0),
  }));
}

const printed = topicsFile ? printApplicationSchema(fixtureTopics(topicsFile)) : `${printBaseSchema()}\n`;

if (check) {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // Missing counts as stale.
  }
  if (committed !== printed) {
    process.stderr.write(`${file} is stale: run \`npm run build && npm run schema:print\` and commit it\n`);
    process.exit(1);
  }
  process.stdout.write(`${file} is up to date\n`);
} else {
  writeFileSync(file, printed);
  process.stdout.write(`wrote ${file}\n`);
}
