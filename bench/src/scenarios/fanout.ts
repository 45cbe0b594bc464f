/**
 * Scenario `fanout`: one topic, 300-byte events, N subscribers, fixed-rate publishing. Every peer's server is
 * pinned to one core, its subscribers and publisher to the other; the steps go in order of rising load, and
 * within a step the peers are measured one at a time, back to back (idle peers cost nothing). A step whose load
 * a peer was already overloaded at is skipped for it, to keep the run bounded.
 */
import { canPin, pin } from '../support/children.js';
import { machineInfo, rssBytes } from '../support/proc.js';
import { redisServerPid } from '../support/services.js';
import { createRig, type Rig } from '../load/rig.js';
import { PAYLOAD_BYTES, stepLabel } from '../load/wire.js';
import { PEER_DESCRIPTIONS, startPeer, type PeerName, type RunningPeer } from '../peers/peers.js';
import type { PlatformBuild } from '../peers/platform-build.js';
import { overloaded, type FanoutResult, type PeerResult, type StepResult } from '../report/results.js';

export interface FanoutOptions {
  peers: readonly PeerName[];
  /** Smaller and shorter, to check the harness (not for numbers). */
  quick?: boolean;
  log: (line: string) => void;
  /** The build of the platform that `ours` runs. */
  platform: PlatformBuild;
  /** Steps in order of rising load. @default the fan-out plan (1,000 subscribers at 10–100/s, then 5,000 at 2/s) */
  plan?: { subscribers: number; rate: number; payloadBytes?: number }[];
  /** The name the result is filed under. @default 'fanout' */
  scenario?: FanoutResult['scenario'];
  /** Spread each peer's subscribers over this many topics, events round-robin over them. @default 1 */
  topics?: number;
  /** Seconds measured per step. @default 3 */
  measureSeconds?: number;
  /**
   * Clients with a personal and a group subscription instead of topics (every step has the same clients), and a
   * share of them dropped each second of every step, each reconnecting after `offlineMs` (see load/subscribers.ts).
   */
  groups?: { groupSize: number; churnShare: number; offlineMs: number };
  /**
   * Measure every step this many times, the peers alternating in each round, and report the round with the
   * median p99 (every round's figures are kept in `rounds`). Replaces the second attempt of borderline steps,
   * for scenarios that compare a small difference of tails. @default 1
   */
  rounds?: number;
  /**
   * The scenario's share of the suite's time (run.ts); what start-up leaves of it is shared by the steps. A step
   * is repeated (its rounds after the first, a second attempt) only while the run keeps to that: by the end of
   * step k of n, at most (k + 1) / n of it used; a step that starts behind (over k / n) measures two thirds as long.
   */
  budgetMs?: number;
}

export const P99_LIMIT_MS = 50;

/** Other people's processes using more than this many cores during a window make it "disturbed". */
const FOREIGN_CPU_LIMIT = 0.2;
/**
 * Total time a run may spend waiting for the machine to calm down and repeating disturbed steps. 6 s (it was
 * 60, then 20, then 10): four scenarios run on this loop, and on a busy machine each spent its whole allowance.
 */
const PATIENCE_MS = 6_000;

/**
 * Rounds of the goals' step (1000 × 50/s), the peers alternating in each. The ratios of deliveries per server
 * CPU-second between peers moved by ±15 % from one 3 s window to the next on this shared machine (1.04–1.26× to
 * Socket.IO over one run's steps); the goals take the median of the per-round ratios. A peer overloaded at the step
 * is measured once (its capacity; a second round would wait out its backlog).
 */
const EFFICIENCY_ROUNDS = 3;

/**
 * Publishes each server handles before anything is measured (every peer alike, no subscriber connected yet): V8
 * optimizes a function only after it has run a while, so without them the first steps measured each server's
 * publish path unoptimized, which weighs most on the peer with the longest path (ours: HTTP, Yoga, GraphQL,
 * validation, history). Ours, 1 subscriber at 10/s: 3.7 → 2.5 ms of server CPU per event after 3,000 of them.
 * BENCH_WARMUP_PUBLISHES changes the count (0: none, to see the difference).
 */
export const WARMUP_PUBLISHES = Number(process.env.BENCH_WARMUP_PUBLISHES ?? 3_000);

/**
 * Other processes used CPU during the window. (How long the server waited for its core is reported too, but
 * it is no test of disturbance: the server's own GC threads and Redis share that core.)
 */
const disturbed = (step: StepResult): boolean => step.foreignCpuCores > FOREIGN_CPU_LIMIT;

/**
 * Failed on latency alone and not by far: on a shared VM one stall decides such a p99, so the step gets a second
 * attempt (every peer alike) and the better one is kept.
 */
const borderline = (step: StepResult): boolean =>
  !step.passes && step.deliveryRatio === 1 && step.publishFailures === 0 && step.latency.p99Ms < 250 && step.openAtEnd === step.subscribersAtStart;


/** The round with the median p99 (the lower middle of an even count), carrying every round's figures. */
function medianRound(steps: StepResult[]): StepResult {
  if (steps.length === 1) return steps[0] as StepResult;
  const byP99 = [...steps].sort((a, b) => a.latency.p99Ms - b.latency.p99Ms);
  const median = byP99[Math.floor((byP99.length - 1) / 2)] as StepResult;
  median.rounds = steps.map((s) => ({
    p50Ms: s.latency.p50Ms,
    p99Ms: s.latency.p99Ms,
    deliveryRatio: s.deliveryRatio,
    deliveriesPerCpuSecond: s.server.deliveriesPerCpuSecond,
    foreignCpuCores: s.foreignCpuCores,
    passes: s.passes,
  }));
  return median;
}

/** One peer through the run: its server, its load rig, what it measured so far. */
interface Lane {
  name: PeerName;
  result: PeerResult;
  peer?: RunningPeer;
  rig?: Rig;
  /** The steps it was overloaded at: heavier ones are skipped. */
  overloadedAt: StepResult[];
  /** No more steps: it crashed, failed or lost subscribers. */
  done: boolean;
}

function skipped(label: string, subscribers: number, rate: number, payloadBytes: number | undefined, note: string, warmupSeconds: number, measureSeconds: number): StepResult {
  return {
    label,
    subscribers,
    rate,
    ...(payloadBytes ? { payloadBytes } : {}),
    status: 'skipped',
    note,
    warmupSeconds,
    measureSeconds,
  } as StepResult;
}

export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const { log, quick = false } = options;
  const startedAt = new Date();
  const scenarioStarted = performance.now();
  // Short windows keep the whole suite (every scenario) within its 10 minutes. 0.5 s of warm-up and 3 s measured
  // (they were 2 and 5, then 1 and 3): the subscribers are live before a step starts (probed), so the warm-up only
  // has to let the publish rate settle, and 3 s at the lightest step (1000 × 10/s) is still 30,000 latency samples.
  // With reconnecting clients (groups) it stays 1 s: one offline period, so the churn is steady when measured.
  const warmupSeconds = options.groups ? 1 : 0.5;
  const measureSeconds = options.measureSeconds ?? 3;
  const topics = options.topics ?? 1;
  const { groups } = options;
  const labelOf = (step: { subscribers: number; rate: number; payloadBytes?: number | undefined }): string => stepLabel({ ...step, topics, groups: Boolean(groups) });
  const basePlan = options.plan ?? (quick
    ? [
        { subscribers: 100, rate: 10 },
        { subscribers: 100, rate: 50 },
        { subscribers: 300, rate: 10 },
        { subscribers: 100, rate: 10, payloadBytes: 10 * 1024 },
      ]
    : [
        { subscribers: 1000, rate: 10 },
        // The same load with larger events.
        { subscribers: 1000, rate: 10, payloadBytes: 1024 },
        { subscribers: 1000, rate: 10, payloadBytes: 10 * 1024 },
        // The goals' step (the issue's p99 goal and its naive-yoga anchor are at this load): measured in rounds,
        // so one noisy 3 s window does not decide a ratio to a peer (see EFFICIENCY_ROUNDS).
        { subscribers: 1000, rate: 50, rounds: EFFICIENCY_ROUNDS },
        { subscribers: 1000, rate: 100 },
        // As many deliveries per second as 1000 × 10/s, over five times the sockets. Last: subscribers are
        // only ever added, so every step after it would run with 5,000.
        { subscribers: 5000, rate: 2 },
      ]);
  const plan: { subscribers: number; rate: number; payloadBytes?: number; topics?: number; rounds?: number }[] = topics > 1 ? basePlan.map((p) => ({ ...p, topics })) : basePlan;
  const pinned = canPin();
  const serverCore = pinned ? 0 : null;
  const loadCore = pinned ? 1 : null;
  const redisPid = await redisServerPid();
  const machine = machineInfo();
  log(`${options.scenario ?? 'fanout'}: node ${machine.node}, ${machine.cpuModel} × ${machine.cores}, commit ${machine.gitCommit}${machine.gitDirtyFiles ? ` (+${machine.gitDirtyFiles} changed files)` : ''}, pinned: ${pinned}`);

  let patienceMs = PATIENCE_MS;
  const lanes: Lane[] = [];
  try {
    // Every peer is started and kept for the whole run, and each step measures the peers one after another
    // (in an order that rotates from step to step): load from other people then falls on all peers alike.
    for (const name of options.peers) {
      const result: PeerResult = { peer: name, description: PEER_DESCRIPTIONS[name], startupMs: 0, connects: [], steps: [], crashed: false };
      const lane: Lane = { name, result, done: false, overloadedAt: [] };
      lanes.push(lane);
      const started = performance.now();
      log(`[${name}] starting`);
      try {
        lane.peer = await startPeer(name, { platformRoot: options.platform.root });
      } catch (error) {
        result.crashed = true;
        result.error = `did not start: ${error instanceof Error ? error.message : String(error)}`;
        lane.done = true;
        log(`[${name}] ${result.error}`);
        continue;
      }
      result.startupMs = Math.round(performance.now() - started);
      // The measured server alone on its core; another instance of the peer (ours-2x's publishing instance A) with
      // the load, as on a machine of its own it would not take turns with the measured one.
      if (serverCore !== null) pin(lane.peer.pid, serverCore);
      if (loadCore !== null) for (const pid of lane.peer.otherPids ?? []) pin(pid, loadCore);
      result.idleRssBytes = rssBytes(lane.peer.pid);
      lane.rig = createRig(lane.peer, {
        topics,
        ...(groups ? { groups: { clients: Math.max(...plan.map((p) => p.subscribers)), groupSize: groups.groupSize } } : {}),
        loadCore,
        redisPid,
        benchPids: () => lanes.flatMap((l) => l.rig?.pids() ?? []),
      });
      const warming = performance.now();
      try {
        if (WARMUP_PUBLISHES > 0) await lane.rig.warmUp(quick ? 200 : WARMUP_PUBLISHES);
        log(`[${name}] warmed up: ${quick ? 200 : WARMUP_PUBLISHES} publishes in ${Math.round(performance.now() - warming)} ms`);
      } catch (error) {
        result.error = `warm-up failed: ${error instanceof Error ? error.message : String(error)}`;
        lane.done = true;
        log(`[${name}] ${result.error}`);
      }
    }

    /** No peer may still be working off a backlog while another one is measured. */
    const allQuiet = async (): Promise<boolean> => {
      let quiet = true;
      for (const lane of lanes) if (lane.rig && !lane.done) quiet = (await lane.rig.waitQuiet()) && quiet;
      return quiet;
    };

    // The steps share what the start-up (servers, warm-up publishes) left of the scenario's budget, in equal parts.
    const stepsStarted = performance.now();
    const stepsBudgetMs = options.budgetMs === undefined ? Infinity : options.budgetMs - (stepsStarted - scenarioStarted);
    for (const [k, { subscribers, rate, payloadBytes, rounds = options.rounds ?? 1 }] of plan.entries()) {
      const label = labelOf({ subscribers, rate, payloadBytes });
      log(`\n${label}`);
      /** Each lane's measurements of this step, one per round. */
      const measured = new Map<Lane, StepResult[]>();
      /** Whether a repetition of this step still fits the steps' budget (see FanoutOptions.budgetMs). */
      const onSchedule = (): boolean => performance.now() - stepsStarted < (stepsBudgetMs * (k + 1)) / plan.length;
      // Already behind when the step starts (more than k / n of the steps' budget used): a shorter window, two thirds.
      const late = performance.now() - stepsStarted > (stepsBudgetMs * k) / plan.length;
      const stepSeconds = late ? Math.max(1.5, Math.round((measureSeconds * 2) / 3 * 2) / 2) : measureSeconds;
      if (stepSeconds < measureSeconds) log(`behind the scenario's time budget (${Math.round((options.budgetMs ?? 0) / 1000)} s): measuring ${stepSeconds} s instead of ${measureSeconds}`);
      for (let round = 0; round < rounds; round++) {
        if (round > 0 && !onSchedule()) {
          log(`behind the scenario's time budget (${Math.round((options.budgetMs ?? 0) / 1000)} s): ${round} of ${rounds} rounds of this step`);
          break;
        }
        if (rounds > 1) log(`round ${round + 1} of ${rounds}`);
        const order = lanes.map((_, i) => lanes[(i + k + round) % lanes.length] as Lane);
        for (const lane of order) {
          const { name, result, peer, rig } = lane;
          if (lane.done || !peer || !rig) continue;
          // Overloaded at this very step: its first round measured its capacity, and another would wait out a backlog.
          const first = measured.get(lane)?.[0];
          if (round > 0 && first && lane.overloadedAt.includes(first)) continue;
          // A step at least as heavy as one it was overloaded at (as many deliveries a second, events at least as
          // large) is skipped: 10 KB events at 10/s say nothing about 300-byte ones at 50/s.
          const size = payloadBytes ?? PAYLOAD_BYTES;
          const worst = lane.overloadedAt.find(
            (o) => size >= (o.payloadBytes ?? PAYLOAD_BYTES) && (subscribers === o.subscribers ? rate > o.rate : subscribers * rate >= o.subscribers * o.rate),
          );
          if (worst) {
            if (round > 0) continue;
            result.steps.push(skipped(label, subscribers, rate, payloadBytes, `skipped: overloaded at ${worst.label}`, warmupSeconds, measureSeconds));
            log(`[${name}] skipped (overloaded at ${worst.label})`);
            continue;
          }
          try {
            if (!peer.alive()) throw new Error('the server process exited');
            const connect = await rig.connectTo(subscribers);
            if (connect.count > 0) {
              result.connects.push(connect);
              const ready = await rig.waitReady();
              log(`[${name}] ${connect.open} subscribers open (+${connect.count} in ${connect.ms} ms, ${connect.failed} failed), ${ready.withData} live after ${ready.probes} probe events`);
            }
            const quiet = await allQuiet();
            if (!quiet) log(`[${name}] a backlog was still being delivered after 20 s; measuring anyway`);
            const calm = async (): Promise<void> => {
              if (patienceMs <= 0) return;
              const waitStarted = Date.now();
              const cores = await rig.waitCalm(FOREIGN_CPU_LIMIT, Math.min(15_000, patienceMs));
              patienceMs -= Date.now() - waitStarted;
              if (cores >= FOREIGN_CPU_LIMIT) log(`[${name}] other processes still use ${cores} cores; measuring anyway`);
            };
            await calm();
            const churn = groups ? { perSecond: Math.round(groups.churnShare * subscribers), offlineMs: groups.offlineMs } : undefined;
            const stepPlan = { subscribers, rate, warmupSeconds, measureSeconds: stepSeconds, p99LimitMs: P99_LIMIT_MS, payloadBytes, churn };
            let step = await rig.runStep(stepPlan);
            const stepCostMs = (warmupSeconds + stepSeconds) * 1000 + step.drainMs + 2_000;
            if (rounds === 1 && (disturbed(step) || borderline(step)) && !overloaded(step) && patienceMs > stepCostMs && onSchedule()) {
              log(
                `[${name}] p99 ${step.latency.p99Ms} ms, other processes used ${step.foreignCpuCores} cores ` +
                  `(${disturbed(step) ? 'disturbed' : 'borderline'}); running it again, the attempt with the lower p99 is kept`,
              );
              const retryStarted = Date.now();
              await allQuiet();
              await calm();
              const again = await rig.runStep(stepPlan);
              patienceMs -= Date.now() - retryStarted;
              const first = step;
              step = again.latency.p99Ms <= first.latency.p99Ms ? again : first;
              const other = step === again ? first : again;
              step.attempts = 2;
              step.otherAttempt = {
                p99Ms: other.latency.p99Ms,
                deliveryRatio: other.deliveryRatio,
                deliveriesPerCpuSecond: other.server.deliveriesPerCpuSecond,
                foreignCpuCores: other.foreignCpuCores,
              };
            }
            if (!quiet) step.note = 'a backlog was still being delivered when this step started';
            if (stepSeconds < measureSeconds) step.note = `${step.note ? `${step.note}; ` : ''}measured ${stepSeconds} s, not ${measureSeconds}: the scenario was behind its share of the suite's time`;
            if (disturbed(step)) {
              step.note = `${step.note ? `${step.note}; ` : ''}disturbed: other processes used ${step.foreignCpuCores} cores during the window (the server waited for its core ${Math.round(step.server.runQueueWaitShare * 100)}% of it)`;
            }
            measured.set(lane, [...(measured.get(lane) ?? []), step]);
            log(
              `[${name}] ratio ${step.deliveryRatio}, p50 ${step.latency.p50Ms} ms, p99 ${step.latency.p99Ms} ms, ` +
                `max ${step.latency.maxMs} ms, server CPU ${Math.round(step.server.cpuUtilization * 100)}% (waited ${Math.round(step.server.runQueueWaitShare * 100)}%), others ${step.foreignCpuCores} cores, ` +
                `${step.server.deliveriesPerCpuSecond} deliveries/CPU-s, generator CPU ${Math.round(step.generator.cpuUtilization * 100)}%` +
                `${step.publishFailures ? `, ${step.publishFailures} publishes failed` : ''}` +
                `${step.churn ? `, ${step.churn.reconnects} reconnects (p99 ${step.churn.p99Ms} ms, ${step.churn.failed} failed), got ${(step.churn.completeness * 100).toFixed(1)}% of all published, ${step.churn.replayed} replayed` : ''}${step.passes ? '' : ' ✗'}`,
            );
            if (overloaded(step)) lane.overloadedAt.push(step);
            if (step.openAtEnd < step.subscribersAtStart) {
              result.error = `${step.subscribersAtStart - step.openAtEnd} subscriptions ended during ${step.label}: ${JSON.stringify(step.closes)}`;
              log(`[${name}] ${result.error}; no more steps for this peer`);
              lane.done = true;
            }
          } catch (error) {
            result.crashed = !peer.alive();
            result.error = error instanceof Error ? error.message : String(error);
            lane.done = true;
            log(`[${name}] failed: ${result.error}`);
          }
        }
      }
      for (const [lane, steps] of measured) lane.result.steps.push(medianRound(steps));
    }
  } finally {
    for (const lane of lanes) {
      const { peer, rig, result } = lane;
      await rig?.close();
      if (!peer) continue;
      if (!peer.alive()) result.crashed = true;
      const code = await peer.stop();
      log(`[${lane.name}] stopped (exit ${code})`);
      if (result.crashed || code !== 0) result.serverOutputTail = peer.output().slice(-4000);
    }
  }
  const peers = lanes.map((lane) => lane.result);

  const finishedAt = new Date();
  return {
    scenario: options.scenario ?? 'fanout',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine,
    platformBuild: options.platform.description,
    settings: { payloadBytes: PAYLOAD_BYTES, warmupSeconds, measureSeconds, warmupPublishes: quick ? 200 : WARMUP_PUBLISHES, plan, pinned, serverCore, loadCore, p99LimitMs: P99_LIMIT_MS, ...(groups ? { groups } : {}) },
    peers,
  };
}
