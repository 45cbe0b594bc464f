/**
 * Prints the base GraphQL schema to a file (`schema.graphql`), or with `--check` fails when the
 * committed file differs from what the code builds, so a stale schema never lands.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { printBaseSchema } from '@realtime/schema';

const args = process.argv.slice(2);
const check = args.includes('--check');
const file = args.find((a) => !a.startsWith('--')) ?? 'schema.graphql';
const printed = `${printBaseSchema()}\n`;

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
