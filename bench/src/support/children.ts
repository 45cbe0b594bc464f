/**
 * Every process the bench starts goes through here, so every one of them is stopped: on a normal end, on
 * an exception, on SIGINT/SIGTERM. Cleanup functions (drop a database, delete a Redis prefix) run once, in
 * reverse registration order, before the process exits.
 */
import { fork, spawn, spawnSync, type ChildProcess, type ForkOptions } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

/** Loaded into every server we start (`node --import`): the server dies with its parent, never orphaned. */
export const WATCHDOG = pathToFileURL(fileURLToPath(new URL('./watchdog.js', import.meta.url))).href;

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every live child at once (SIGKILL): the last resort, safe in an `exit` handler. */
export function killAllNow(): void {
  for (const child of children) if (alive(child) && child.pid !== undefined) child.kill('SIGKILL');
}

/** Registers work that must run before the bench exits, whatever the reason. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

let cleaning: Promise<void> | undefined;

/** Runs the registered cleanups (each bounded to 15 s); idempotent. */
export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop() as () => Promise<void>;
      await Promise.race([fn().catch((error: unknown) => console.error('cleanup failed:', error)), sleep(15_000)]);
    }
  })();
  return cleaning;
}

process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping children and cleaning up…`);
    killAllNow();
    void runCleanups().finally(() => process.exit(130));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a process with stdout/stderr captured (the last 64 KiB kept) and tracked for cleanup. */
export function startProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Started {
  const child = track(spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 65_536) output = output.slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, pid: child.pid ?? -1, exited, output: () => output, stop: (graceMs = 10_000) => stopChild(child, exited, graceMs) };
}

export interface Started {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, graceMs: number): Promise<number | null> {
  if (!alive(child)) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => alive(child) && child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Forks a bench module (a load generator) with an IPC channel; it exits when the channel closes. */
export function forkModule(modulePath: string, options: ForkOptions = {}): ChildProcess {
  return track(fork(modulePath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...options }));
}

let tasksetChecked: boolean | undefined;

/** Whether `taskset` exists and the machine has at least two cores to pin apart. */
export function canPin(): boolean {
  if (tasksetChecked === undefined) {
    const probe = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' });
    tasksetChecked = probe.status === 0;
  }
  return tasksetChecked;
}

/** Pins every thread of `pid` to one core (threads created later inherit it). No-op without taskset. */
export function pin(pid: number, core: number): boolean {
  if (!canPin()) return false;
  return spawnSync('taskset', ['-a', '-c', '-p', String(core), String(pid)], { stdio: 'ignore' }).status === 0;
}
