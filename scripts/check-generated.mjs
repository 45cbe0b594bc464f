// Fails when committed generated files are stale: the example's exported schema and its codegen output.
// Regenerates both into a temporary directory and compares byte for byte; writes nothing in the tree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const example = 'examples/order-tracker';
const temp = mkdtempSync(join(tmpdir(), 'rt-codegen-'));
const stale = [];
try {
  const schemaOut = join(temp, 'schema.graphql');
  execFileSync('node', ['server/dist/print-schema.js', '--topics', `${example}/topics.json`, schemaOut], { stdio: 'pipe' });
  if (readFileSync(schemaOut, 'utf8') !== readFileSync(`${example}/schema.graphql`, 'utf8')) stale.push(`${example}/schema.graphql`);

  const gqlOut = join(temp, 'gql') + '/';
  execFileSync('npx', ['graphql-codegen', '--config', 'codegen.ts', '--silent'], {
    stdio: 'pipe',
    env: { ...process.env, CODEGEN_OUT_DIR: gqlOut },
  });
  const committedDir = `${example}/src/gql`;
  const files = (dir) => readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.ts')).sort();
  const fresh = files(gqlOut);
  const committed = files(committedDir);
  if (fresh.join() !== committed.join()) stale.push(`${committedDir} (files differ)`);
  for (const f of fresh) {
    if (committed.includes(f) && readFileSync(join(gqlOut, f), 'utf8') !== readFileSync(join(committedDir, f), 'utf8')) {
      stale.push(relative('.', join(committedDir, f)));
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
if (stale.length > 0) {
  console.error(`generated files are stale: ${stale.join(', ')}\nrun \`npm run codegen\` and commit the result`);
  process.exit(1);
}
console.log('generated files are up to date');
