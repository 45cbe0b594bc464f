/**
 * Scenario `profile`: where the server's time goes during fan-out. Runs ours, naive yoga and the ws ceiling under
 * V8's sampling profiler (`--cpu-prof`) through one fan-out step, then attributes self time to packages and
 * functions. The profiler slows the server, so these runs are never used for the fan-out numbers. V8 samples
 * wall time outside idle: a sample in `writev` is the main thread inside that system call, whether the kernel
 * was running it or not.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canPin, pin } from '../support/children.js';
import { machineInfo } from '../support/proc.js';
import { createRig } from '../load/rig.js';
import { WARMUP_PUBLISHES } from './fanout.js';
import { REPO_ROOT, startPeer, type PeerName } from '../peers/peers.js';
import type { PlatformBuild } from '../peers/platform-build.js';
import type { PeerProfile, ProfileEntry, ProfileResult } from '../report/results.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  /** Microseconds on the machine's monotonic clock, the one `process.hrtime` reads in every process. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Functions listed per peer; BENCH_PROFILE_TOP=60 lists more when looking for the next lever. */
const PROFILE_TOP_FUNCTIONS = Number(process.env.BENCH_PROFILE_TOP ?? 15);

/** Now on the monotonic clock, in microseconds (comparable with a profile's sample times). */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

/** Which package or subsystem a frame belongs to. */
function category(functionName: string, url: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(V8 builtins and native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 14).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) {
    const name = url.replace(/^node:(internal\/)?/, '').split('/')[0] ?? url;
    return `node:${name.replace(/\.js$/, '')}`;
  }
  // The repo or a snapshot of it (…/realtime-bench-<sha>-…/server/dist/…).
  const workspace = /\/(core|schema|server|workers|bench)\/dist\//.exec(url)?.[1];
  return workspace ? (workspace === 'bench' ? 'bench' : `@realtime/${workspace}`) : url.replace(/^file:\/\//, '').replace(REPO_ROOT, '');
}

/** Self time by package and by function of the samples taken in [from, to] (monotonic microseconds). */
function summarize(profile: CpuProfile, top: number, from: number, to: number): { busyMs: number; byCategory: ProfileEntry[]; topFunctions: ProfileEntry[] } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const selfByNode = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at <= to) selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta);
  });
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfByNode) {
    const frame = nodes.get(id);
    if (!frame || frame.functionName === '(idle)') continue;
    busy += micros;
    const group = category(frame.functionName, frame.url);
    byCategory.set(group, (byCategory.get(group) ?? 0) + micros);
    const where = frame.url ? `${group} ${frame.url.split('/').pop() ?? ''}:${frame.lineNumber + 1}` : group;
    const name = `${frame.functionName || '(anonymous)'} — ${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const entries = (map: Map<string, number>): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, selfMs: Math.round(micros / 1000), share: Math.round((micros / busy) * 1000) / 1000 }));
  return { busyMs: Math.round(busy / 1000), byCategory: entries(byCategory), topFunctions: entries(byFunction) };
}

export async function runProfile(options: { peers: readonly PeerName[]; quick?: boolean; log: (line: string) => void; platform: PlatformBuild }): Promise<ProfileResult> {
  const { log, quick = false } = options;
  const startedAt = new Date();
  const subscribers = quick ? 100 : 1000;
  // A rate every GraphQL peer sustains with 1000 subscribers: the profile shows steady work, not a backlog.
  // BENCH_PROFILE_RATE profiles another rate (say 50, the fan-out goal's load) for the peers that sustain it.
  const rate = Number(process.env.BENCH_PROFILE_RATE ?? 5);
  // BENCH_PROFILE_TOPICS=10 spreads the subscribers over that many topics, as the `topics` scenario does.
  const topics = Number(process.env.BENCH_PROFILE_TOPICS ?? 1);
  const pinned = canPin();
  const profiles: PeerProfile[] = [];
  for (const name of options.peers) {
    const dir = mkdtempSync(join(tmpdir(), `bench-prof-${name}-`));
    log(`\n[profile ${name}] starting with --cpu-prof`);
    try {
      const peer = await startPeer(name, { cpuProfileDir: dir, platformRoot: options.platform.root });
      if (pinned) pin(peer.pid, 0);
      const rig = createRig(peer, { loadCore: pinned ? 1 : null, topics });
      let delivered = 0;
      let label = '';
      let from = 0;
      let to = 0;
      try {
        if (WARMUP_PUBLISHES > 0) await rig.warmUp(quick ? 200 : WARMUP_PUBLISHES);
        await rig.connectTo(subscribers);
        await rig.waitReady();
        from = monotonicMicros();
        const step = await rig.runStep({ subscribers, rate, warmupSeconds: 1, measureSeconds: quick ? 3 : 6, p99LimitMs: Infinity });
        to = monotonicMicros();
        delivered = step.stepDelivered;
        label = `${step.label}, ${step.measureSeconds} s measured (ratio ${step.deliveryRatio}, p99 ${step.latency.p99Ms} ms under the profiler)`;
        log(`[profile ${name}] ${label}`);
      } finally {
        await rig.close();
        await peer.stop(); // the profile is written as the process exits
      }
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error('no .cpuprofile was written (the server did not exit cleanly)');
      const summary = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, PROFILE_TOP_FUNCTIONS, from, to);
      profiles.push({
        peer: name,
        step: label,
        delivered,
        ...summary,
        busyMsPerThousandDeliveries: delivered > 0 ? Math.round((summary.busyMs / delivered) * 1000 * 100) / 100 : Number.NaN,
      });
      log(`[profile ${name}] busy ${summary.busyMs} ms; top: ${summary.byCategory.slice(0, 5).map((c) => `${c.name} ${Math.round(c.share * 100)}%`).join(', ')}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`[profile ${name}] failed: ${message}`);
      profiles.push({ peer: name, step: '', delivered: 0, busyMs: 0, busyMsPerThousandDeliveries: Number.NaN, byCategory: [], topFunctions: [], error: message });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const finishedAt = new Date();
  return {
    scenario: 'profile',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: machineInfo(),
    platformBuild: options.platform.description,
    note: `Self time of the server's samples taken during one ${rate}/s step with ${subscribers} subscribers (warm-up, window and drain; start-up and connects excluded), idle excluded. The profiler slows the server: read the shares, not the absolute times.`,
    peers: profiles,
  };
}
