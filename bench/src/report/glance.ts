/**
 * The summary's first section: every goal of the benchmark issue, what this run measured against it, and
 * whether it is met — so where ours is behind is stated in one place, before the per-scenario detail.
 */
import { stepLabel } from '../load/wire.js';
import { median, medianLatency, overloaded, type CdcResult, type FanoutResult, type StepResult } from './results.js';
import type { IdleResult } from '../scenarios/idle.js';
import type { WebhooksResult } from '../scenarios/webhooks.js';

export interface GlanceInputs {
  fanout?: FanoutResult | undefined;
  twoInstances?: FanoutResult | undefined;
  idle?: IdleResult | undefined;
  cdc?: CdcResult | undefined;
  webhooks?: WebhooksResult | undefined;
}

interface Goal {
  goal: string;
  /** What this run measured, in words and numbers; undefined when the scenario's results are missing. */
  measured: string | undefined;
  met: boolean | undefined;
}

const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
/** A ratio against its goal, with a third decimal where two would round a miss up to the goal itself. */
const versus = (value: number, target: number): string => fixed(value, value < target && fixed(value) === fixed(target) ? 3 : 2);
const thousands = (value: number): string => (Number.isFinite(value) ? `${Math.round(value / 1000)}k` : '–');

function step(result: FanoutResult | undefined, peer: string, plan: { subscribers: number; rate: number }): StepResult | undefined {
  const found = result?.peers.find((p) => p.peer === peer)?.steps.find((s) => s.label === stepLabel(plan));
  return found?.status === 'measured' ? found : undefined;
}

/**
 * The step the efficiency goals are judged at: 1000 subscribers × 50 events/s, the load of the issue's p99 goal and
 * the one its naive-yoga anchor (≈ 23k deliveries per CPU-second, "could not sustain 50 events/s") was measured at.
 * At 10/s every server idles most of each second, and what it spends per second whatever the rate (keep-alive,
 * timers) weighs on the ratio: there the ws ceiling itself reaches only about 4 × naive yoga.
 */
const GOAL_STEP = { subscribers: 1000, rate: 50 };
/** The lightest step, where every peer keeps up: its ratio is shown beside the goal's. */
const LIGHT_STEP = { subscribers: 1000, rate: 10 };

/** A step's deliveries per server CPU-second, one per round (one value when it was measured once). */
const perRound = (step: StepResult): number[] => step.rounds?.map((r) => r.deliveriesPerCpuSecond) ?? [step.server.deliveriesPerCpuSecond];

/**
 * Ours ÷ peer per round (rounds paired in order; a peer measured once, being overloaded, against each of ours),
 * and their median.
 */
function roundRatios(ours: StepResult, other: StepResult): { ratios: number[]; median: number } {
  const a = perRound(ours);
  const b = perRound(other);
  const ratios = a.map((value, i) => value / (b.length === a.length ? (b[i] as number) : median(b)));
  return { ratios, median: median(ratios) };
}

/** Ours ÷ peer, in deliveries per server CPU-second, at the goals' step (medians of its rounds). */
function efficiency(fanout: FanoutResult | undefined, peer: string, target: number, label: string): Goal {
  const ours = step(fanout, 'ours', GOAL_STEP);
  const other = step(fanout, peer, GOAL_STEP);
  if (!ours || !other) return { goal: label, measured: undefined, met: undefined };
  const { ratios, median: ratio } = roundRatios(ours, other);
  const each = ratios.length > 1 ? `median of ${ratios.length} rounds: ${ratios.map((r) => `${versus(r, target)}×`).join(', ')}; ` : '';
  const capacity = overloaded(other) ? `, where ${peer} is overloaded (its figure is its capacity)` : '';
  // The same ratio at the lightest step and at every step both measured, for the reader.
  const light = step(fanout, 'ours', LIGHT_STEP);
  const lightOther = step(fanout, peer, LIGHT_STEP);
  const atLight = light && lightOther ? `; at 1000 subs × 10/s, where every peer keeps up: ${fixed(light.server.deliveriesPerCpuSecond / lightOther.server.deliveriesPerCpuSecond)}×` : '';
  const stepRatios = (fanout?.settings.plan ?? []).flatMap((p) => {
    const a = step(fanout, 'ours', p);
    const b = step(fanout, peer, p);
    return a && b ? [a.server.deliveriesPerCpuSecond / b.server.deliveriesPerCpuSecond] : [];
  });
  const range = stepRatios.length > 1 ? `; ${fixed(Math.min(...stepRatios))}–${fixed(Math.max(...stepRatios))}× over the ${stepRatios.length} steps both measured` : '';
  // Where even the ceiling falls short of the goal against this peer, say so: no server writing these frames reaches it.
  const ceiling = peer === 'ws-ceiling' ? undefined : step(fanout, 'ws-ceiling', GOAL_STEP);
  const ceilingRatio = ceiling ? roundRatios(ceiling, other).median : Number.NaN;
  const bound = ceilingRatio < target ? `; the ws ceiling itself is ${fixed(ceilingRatio)}× ${peer} at this step` : '';
  return {
    goal: label,
    measured:
      `${versus(ratio, target)}× (${each}${thousands(median(perRound(ours)))} vs ${thousands(median(perRound(other)))} deliveries per server CPU-s at 1000 subs × 50/s${capacity}` +
      `${atLight}${range}${bound})`,
    met: ratio >= target,
  };
}

function goals(inputs: GlanceInputs): Goal[] {
  const { fanout, twoInstances, idle, cdc, webhooks } = inputs;
  const list: Goal[] = [
    efficiency(fanout, 'ws-ceiling', 0.8, 'Fan-out: ≥ 0.8 × the plain `ws` ceiling per server CPU-second'),
    efficiency(fanout, 'naive-yoga', 5, 'Fan-out: ≥ 5 × naive yoga per server CPU-second'),
    efficiency(fanout, 'socketio', 1.2, 'Fan-out: ≥ 1.2 × Socket.IO per server CPU-second'),
  ];
  const at50 = step(fanout, 'ours', GOAL_STEP);
  list.push({
    goal: 'Fan-out: p99 ≤ 50 ms at 1,000 subscribers × 50 events/s, every event delivered',
    measured: at50 ? `p99 ${fixed(at50.latency.p99Ms, 1)} ms, ${Math.round(at50.deliveryRatio * 1000) / 10} % delivered${at50.rounds && at50.rounds.length > 1 ? ` (the round with the median p99 of ${at50.rounds.length}: ${at50.rounds.map((r) => fixed(r.p99Ms, 1)).join(', ')} ms)` : ''}` : undefined,
    met: at50 ? at50.latency.p99Ms <= 50 && at50.deliveryRatio === 1 : undefined,
  });
  const added = [10, 50].flatMap((rate) => {
    const one = step(twoInstances, 'ours', { subscribers: 1000, rate });
    const two = step(twoInstances, 'ours-2x', { subscribers: 1000, rate });
    return one && two ? [{ rate, p50: medianLatency(two, 'p50Ms') - medianLatency(one, 'p50Ms'), p99: medianLatency(two, 'p99Ms') - medianLatency(one, 'p99Ms') }] : [];
  });
  list.push({
    goal: 'Two instances add ≤ 1 ms at p50 and ≤ 5 ms at p99',
    measured: added.length
      ? `${added.map((a) => `${a.rate}/s: ${a.p50 >= 0 ? '+' : ''}${fixed(a.p50)} ms p50, ${a.p99 >= 0 ? '+' : ''}${fixed(a.p99)} ms p99`).join('; ')}${step(twoInstances, 'ours', { subscribers: 1000, rate: 10 })?.rounds ? ' (medians of the rounds)' : ''}`
      : undefined,
    met: added.length ? added.every((a) => a.p50 <= 1 && a.p99 <= 5) : undefined,
  });
  const oursIdle = idle?.peers.find((p) => p.peer === 'ours');
  list.push({
    goal: '≤ 30 KB of server memory per idle subscription (10,000 open)',
    measured: oursIdle && !oursIdle.error ? `${fixed(oursIdle.bytesPerSubscription / 1024, 1)} KB` : undefined,
    met: oursIdle && !oursIdle.error ? oursIdle.bytesPerSubscription <= 30 * 1024 : undefined,
  });
  const avalanche = idle?.avalanche;
  list.push({
    goal: '10,000 reconnects resumed (with cursors) within 10 s',
    measured: avalanche && !avalanche.error ? `${avalanche.resumedWithin10s} of ${avalanche.clients} within 10 s (all in ${avalanche.allResumedMs === null ? '–' : fixed(avalanche.allResumedMs / 1000, 1)} s), ${avalanche.inexact} inexact${avalanche.serverCpuMicrosPerClient === undefined ? '' : `; server CPU ${avalanche.serverCpuMicrosPerClient} µs per client`}` : undefined,
    met: avalanche && !avalanche.error ? avalanche.resumedWithin10s === avalanche.clients && avalanche.inexact === 0 : undefined,
  });
  list.push({
    goal: 'CDC: commit → subscriber p50 ≤ 10 ms, p99 ≤ 50 ms at 1,000 tx/s',
    measured: cdc ? `p50 ${fixed(cdc.latency.latency.p50Ms)} ms, p99 ${fixed(cdc.latency.latency.p99Ms)} ms at ${Math.round(cdc.latency.achievedTxPerSec)} tx/s` : undefined,
    met: cdc ? cdc.latency.latency.p50Ms <= 10 && cdc.latency.latency.p99Ms <= 50 && cdc.latency.achievedTxPerSec >= 950 : undefined,
  });
  list.push({
    goal: 'CDC: ≥ 5,000 changes/s sustained with replication lag not growing',
    measured: cdc ? `${Math.round(cdc.sustained.offeredChangesPerSec)}/s sustained (lag ${cdc.sustained.lagNotGrowing ? 'flat' : 'growing'}); drain ${Math.round(cdc.capacity.drainChangesPerSec)}/s` : undefined,
    met: cdc ? cdc.sustained.offeredChangesPerSec >= 5000 && cdc.sustained.lagNotGrowing : undefined,
  });
  const ok = webhooks?.variants.find((v) => v.variant === 'ok');
  list.push({
    goal: 'Webhooks: ≥ 2,000 deliveries/s',
    measured: ok && !ok.ours.error ? `${Math.round(ok.ours.deliveriesPerSec)}/s (receiver answering at once)` : undefined,
    met: ok && !ok.ours.error ? ok.ours.deliveriesPerSec >= 2000 : undefined,
  });
  const lower = ok && webhooks ? Math.min(webhooks.rawBullmq.jobsPerSec, ok.rawHttp.deliveriesPerSec) : Number.NaN;
  list.push({
    goal: 'Webhooks: ≥ 0.5 × the lower of a raw BullMQ no-op worker and a raw HTTP POST loop',
    measured: ok && !ok.ours.error ? `${versus(ok.ours.deliveriesPerSec / lower, 0.5)}× (${Math.round(ok.ours.deliveriesPerSec)}/s vs ${Math.round(lower)}/s)` : undefined,
    met: ok && !ok.ours.error ? ok.ours.deliveriesPerSec >= 0.5 * lower : undefined,
  });
  return list;
}

export function glanceSection(inputs: GlanceInputs): string[] {
  const list = goals(inputs);
  const behind = list.filter((g) => g.met === false).length;
  return [
    '## At a glance: the goals',
    '',
    `The goals of the benchmark issue against this run. ${behind === 0 ? 'Every goal measured is met.' : `**${behind} of ${list.length} are not met**; the sections below say by how much against each peer.`} ` +
      'The ratios to a peer compare like with like in one run; the absolute ones (a p99 at a rate, changes or deliveries per second) also move with the machine: ' +
      'each section shows the peers of the same run (the raw decoder, the raw POST loop and BullMQ worker, the ceiling), which slow down with it.',
    '',
    '| Goal | This run | Met |',
    '|---|---|:---:|',
    ...list.map((g) => `| ${g.goal} | ${g.measured ?? 'not measured in this run'} | ${g.met === undefined ? '–' : g.met ? 'yes' : '**no**'} |`),
    '',
    'Every attempt to close these gaps, with its before and after numbers: [LEVERS.md](LEVERS.md).',
    '',
  ];
}
