/** What the kernel says about a process: CPU time from /proc/<pid>/stat, memory from /proc/<pid>/status. */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds of every thread of `pid` so far, or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15 of the whole line)
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds so far of every process on the machine, by pid, with its command name. */
export function allProcessesCpu(): Map<number, { comm: string; seconds: number }> {
  const result = new Map<number, { comm: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      result.set(Number(entry), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK });
    } catch {
      // gone meanwhile
    }
  }
  return result;
}

/**
 * The CPU seconds every process used between two `allProcessesCpu` readings, grouped: the pids named in `named`
 * under their names, the rest by command name (PostgreSQL's backends under `postgres`). A process that ended in
 * between is missing (its last ticks are lost); one that started counts from zero.
 */
export function cpuBetween(before: Map<number, { comm: string; seconds: number }>, after: Map<number, { comm: string; seconds: number }>, named: Record<string, number>): Record<string, number> {
  const names = new Map(Object.entries(named).map(([name, pid]) => [pid, name]));
  const groups: Record<string, number> = {};
  for (const [pid, { comm, seconds }] of after) {
    const used = seconds - (before.get(pid)?.seconds ?? 0);
    if (used <= 0) continue;
    const group = names.get(pid) ?? (comm.startsWith('postgres') ? 'postgres' : comm);
    groups[group] = (groups[group] ?? 0) + used;
  }
  return groups;
}

/** Resident set size in bytes (VmRSS), or NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Seconds the process's main thread (its event loop) has spent runnable but waiting for a CPU, from
 * /proc/<pid>/task/<pid>/schedstat: how much other processes on its core held it back. NaN when unknown.
 */
export function runQueueWaitSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return Number.NaN;
  }
}

export interface CpuMeter {
  /** CPU seconds used since the meter started. */
  seconds(): number;
  /** Fraction of one core used since the meter started. */
  utilization(): number;
  /** Fraction of the time since the meter started that the main thread waited for a CPU it wanted. */
  waitShare(): number;
}

/** Measures one process's CPU over an interval that starts now. */
export function cpuMeter(pid: number): CpuMeter {
  const startCpu = cpuSeconds(pid);
  const startWait = runQueueWaitSeconds(pid);
  const startWall = performance.now();
  const wall = (): number => (performance.now() - startWall) / 1000;
  const seconds = (): number => cpuSeconds(pid) - startCpu;
  return { seconds, utilization: () => seconds() / wall(), waitShare: () => (runQueueWaitSeconds(pid) - startWait) / wall() };
}

function git(args: string[]): string {
  const result = spawnSync('git', args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

export interface MachineInfo {
  node: string;
  cpuModel: string;
  cores: number;
  kernel: string;
  gitCommit: string;
  /** Files changed in the working tree when the bench ran (the build includes them). */
  gitDirtyFiles: number;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux: keep os.cpus()
  }
  const status = git(['status', '--porcelain']);
  return {
    node: process.version,
    cpuModel,
    cores: cpus().length,
    kernel: release(),
    gitCommit: git(['rev-parse', '--short', 'HEAD']),
    gitDirtyFiles: status === 'unknown' || status === '' ? 0 : status.split('\n').length,
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/** Microseconds during which some runnable task on the machine waited for a CPU (PSI), or NaN without PSI. */
export function cpuPressureMicros(): number {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds the whole machine has been busy in processes (user, nice, system) or taken by the hypervisor
 * (steal), from /proc/stat. Interrupt time is left out: the loopback traffic of the measurement itself lands there.
 */
export function systemBusySeconds(): number {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , , , steal = 0] = fields;
    return (user + nice + system + steal) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/**
 * Measures the CPU used by everything except `ours` (the processes of the measurement) from now on, in cores:
 * other people's work on the machine, which competes with the measurement.
 */
export function foreignCpuMeter(ours: () => number[]): () => number {
  const pids = ours();
  const busy0 = systemBusySeconds();
  const own0 = pids.map(cpuSeconds);
  const wall0 = performance.now();
  return () => {
    const own = pids.reduce((sum, pid, i) => sum + (cpuSeconds(pid) - (own0[i] ?? 0) || 0), 0);
    return (systemBusySeconds() - busy0 - own) / ((performance.now() - wall0) / 1000);
  };
}
