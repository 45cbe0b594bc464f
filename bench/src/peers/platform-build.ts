/**
 * Which build of the platform `ours` runs. By default the working tree, built with `npx tsc -b` at the repo
 * root. The working tree is shared with people mid-change, so when it does not compile (or when a git ref is
 * asked for) the bench measures a commit instead: `git archive <ref>` into a temporary directory, the repo's
 * node_modules linked in, built there with `tsc -b`. The repository itself is never written to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../support/children.js';
import { RUN_TAG } from '../support/services.js';
import { REPO_ROOT } from './peers.js';

export interface PlatformBuild {
  /** Directory holding `server/dist/main.js`. */
  root: string;
  /** One line for the results: what was measured and how it was built. */
  description: string;
}

const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

function tscBuild(cwd: string): { ok: boolean; output: string } {
  const result = spawnSync(process.execPath, [TSC, '-b'], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

function git(args: string[]): string {
  const result = spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Links the repo's installed packages into the snapshot. Workspace packages (`@realtime/*`) are relative links,
 * copied as they are so that they point into the snapshot; everything else links to the repo's copy.
 */
function linkNodeModules(snapshot: string): void {
  const source = join(REPO_ROOT, 'node_modules');
  const target = join(snapshot, 'node_modules');
  mkdirSync(target);
  for (const entry of readdirSync(source)) {
    if (entry === '@realtime') {
      mkdirSync(join(target, entry));
      for (const workspace of readdirSync(join(source, entry))) {
        const link = join(source, entry, workspace);
        if (lstatSync(link).isSymbolicLink()) symlinkSync(readlinkSync(link), join(target, entry, workspace));
      }
    } else {
      symlinkSync(join(source, entry), join(target, entry));
    }
  }
  // Packages installed inside a workspace (a version that differs from the root's).
  for (const workspace of ['core', 'schema', 'workers', 'server']) {
    const nested = join(REPO_ROOT, workspace, 'node_modules');
    if (existsSync(nested) && existsSync(join(snapshot, workspace)) && !existsSync(join(snapshot, workspace, 'node_modules'))) {
      symlinkSync(nested, join(snapshot, workspace, 'node_modules'));
    }
  }
}

function snapshot(ref: string, log: (line: string) => void): PlatformBuild {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const dir = mkdtempSync(join(tmpdir(), `realtime-bench-${sha.slice(0, 7)}-${RUN_TAG}-`));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const extract = spawnSync('sh', ['-c', `git archive --format=tar ${sha} | tar -x -C "${dir}"`], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (extract.status !== 0) throw new Error(`git archive ${sha} failed: ${extract.stderr}`);
  linkNodeModules(dir);
  log(`building commit ${sha.slice(0, 7)} in ${dir} (tsc -b)…`);
  const build = tscBuild(dir);
  if (!build.ok) throw new Error(`tsc -b of commit ${sha.slice(0, 7)} failed:\n${build.output.slice(0, 2000)}`);
  return { root: dir, description: `commit \`${sha.slice(0, 7)}\` (${ref}), exported with git archive and built with \`tsc -b\` outside the working tree` };
}

/** Builds the platform to measure: the working tree, or `ref` when given, or HEAD when the working tree does not compile. */
export function preparePlatform(options: { ref?: string | undefined; log: (line: string) => void }): PlatformBuild {
  const { ref, log } = options;
  if (ref) return snapshot(ref, log);
  log('building the platform in the working tree (npx tsc -b)…');
  const build = tscBuild(REPO_ROOT);
  if (build.ok) {
    const changed = git(['status', '--porcelain', '--', '.', ':(exclude)bench']).split('\n').filter(Boolean).length;
    // A fingerprint of the uncommitted changes, to tell two runs of "the same commit" apart.
    const diff = spawnSync('sh', ['-c', "git diff HEAD -- . ':(exclude)bench' | sha1sum"], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.slice(0, 8);
    return {
      root: REPO_ROOT,
      description: `the working tree at \`${git(['rev-parse', '--short', 'HEAD'])}\`${changed ? ` with ${changed} uncommitted changed files (diff sha1 ${diff}…)` : ''}, built with \`npx tsc -b\` just before the run`,
    };
  }
  const firstError = build.output.split('\n')[0] ?? '';
  log(`warning: the working tree does not compile (${firstError.slice(0, 160)}); measuring HEAD instead`);
  const head = snapshot('HEAD', log);
  return { ...head, description: `${head.description}, because the working tree did not compile (\`${firstError.slice(0, 120)}\`)` };
}
