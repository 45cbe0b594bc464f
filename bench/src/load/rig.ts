/**
 * The load rig for one peer: a subscriber process and a publisher process (both forked, both pinned to the
 * load core), and the measured step: warm up, measure a window, drain, report. Every peer goes through the
 * same code, so every peer is measured the same way.
 */
import { fileURLToPath } from 'node:url';
import { forkModule, pin, sleep } from '../support/children.js';
import { cpuMeter, cpuPressureMicros, foreignCpuMeter, rssBytes } from '../support/proc.js';
import { rpcClient, type RpcClient } from '../support/rpc.js';
import type { RunningPeer } from '../peers/peers.js';
import type { StepResult } from '../report/results.js';
import type { PublisherMethods } from './publisher.js';
import type { SubscriberMethods } from './subscribers.js';
import { channelCount, channelOfEvent, eventsCoveringAllChannels, stepLabel, type Layout } from './wire.js';

export interface RigOptions {
  /** Core for the subscriber and publisher processes, or null to leave them unpinned. */
  loadCore: number | null;
  /** The machine's redis-server pid, to report its CPU. */
  redisPid?: number | undefined;
  /** Spread subscribers over this many topics (peer.topic(k)), events round-robin over them. @default 1 */
  topics?: number;
  /** Personal and group channels instead of topics (peer.groupChannel); overrides `topics`. */
  groups?: { clients: number; groupSize: number };
  /** Other processes of the bench (idle peers and their load), left out of "other processes' CPU". */
  benchPids?: () => number[];
}

export interface StepPlan {
  subscribers: number;
  rate: number;
  warmupSeconds: number;
  measureSeconds: number;
  p99LimitMs: number;
  /** Longest wait for the last deliveries after the last publish. @default 8000 */
  drainCapMs?: number;
  /** Size of each event's data. @default 300 */
  payloadBytes?: number | undefined;
  /** Clients dropped per second during the step, each reconnecting after `offlineMs` (see subscribers.ts). @default none */
  churn?: { perSecond: number; offlineMs: number } | undefined;
}

export interface Rig {
  /** The server, subscriber and publisher processes. */
  pids(): number[];
  generatorPid: number;
  publisherPid: number;
  /** Opens subscribers until `total` are open. */
  connectTo(total: number): Promise<{ count: number; open: number; failed: number; ms: number }>;
  /** Publishes probe events until every open subscriber has received one (its subscription is live). */
  waitReady(timeoutMs?: number): Promise<{ open: number; withData: number; probes: number }>;
  /** Waits until no event has arrived for `quietMs`; false if the backlog still flows after `timeoutMs`. */
  waitQuiet(quietMs?: number, timeoutMs?: number): Promise<boolean>;
  /**
   * Waits until processes outside the measurement use less than `maxCores` (sampled each second), at most
   * `timeoutMs`. Resolves with the last sample.
   */
  waitCalm(maxCores: number, timeoutMs: number): Promise<number>;
  /**
   * Publishes `count` events as fast as the publisher's 2,000/s allows, with nothing measured: run before the
   * first subscriber connects, it lets the server's JIT compile its publish path, as in a server that has run
   * for a while (otherwise the first steps measure code still running unoptimized).
   */
  warmUp(count: number): Promise<void>;
  runStep(plan: StepPlan): Promise<StepResult>;
  close(): Promise<void>;
}

/**
 * monitorEventLoopDelay (ours through prom-client, the others through /stats, the generator itself) samples
 * every 10 ms and reports the whole interval, so an idle loop reads 10 ms: report only the delay beyond it.
 */
const LOOP_SAMPLING_MS = 10;
const beyondSampling = (delayMs: number | undefined): number => round(Math.max(0, (delayMs ?? Number.NaN) - LOOP_SAMPLING_MS), 2);

const round = (n: number, digits = 3): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

export function createRig(peer: RunningPeer, options: RigOptions): Rig {
  const generatorChild = forkModule(fileURLToPath(new URL('./subscribers.js', import.meta.url)));
  const publisherChild = forkModule(fileURLToPath(new URL('./publisher.js', import.meta.url)));
  const generatorPid = generatorChild.pid ?? -1;
  const publisherPid = publisherChild.pid ?? -1;
  if (options.loadCore !== null) {
    pin(generatorPid, options.loadCore);
    pin(publisherPid, options.loadCore);
  }
  const subscribers: RpcClient<SubscriberMethods> = rpcClient(generatorChild);
  const publisher: RpcClient<PublisherMethods> = rpcClient(publisherChild);
  let seq = 1;
  let open = 0;
  const layout: Layout = options.groups ? { kind: 'groups', ...options.groups } : { kind: 'topics', topics: options.topics ?? 1 };
  const { groups } = options;
  const channels = Array.from({ length: channelCount(layout) }, (_, c) =>
    !groups ? peer.topic(c) : c < groups.clients ? peer.groupChannel({ kind: 'personal', id: c }) : peer.groupChannel({ kind: 'group', id: c - groups.clients }),
  );
  const wires = channels.map((t) => t.wire);
  const specs = channels.map((t) => t.publish);
  /** Deliveries events seq ∈ [from, to) should make: each reaches the subscribers of its channel. */
  const expectedFor = (audience: number[], from: number, to: number): number => {
    let sum = 0;
    for (let s = from; s < to; s += 1) sum += audience[channelOfEvent(layout, s)] ?? 0;
    return sum;
  };
  const measuredPids = (): number[] => [
    ...new Set([peer.pid, generatorPid, publisherPid, process.pid, ...(options.redisPid ? [options.redisPid] : []), ...(options.benchPids?.() ?? [])]),
  ];

  /** One event on every channel (a burst of them when there are many). */
  const probe = async (): Promise<void> => {
    const count = eventsCoveringAllChannels(layout);
    await publisher.call('publish', { spec: specs, layout, rate: 2_000, count, seqStart: seq }, 60_000);
    seq += count;
  };

  return {
    pids: () => [peer.pid, ...(peer.otherPids ?? []), generatorPid, publisherPid],
    generatorPid,
    publisherPid,
    async warmUp(count) {
      await publisher.call('publish', { spec: specs, layout, rate: 2_000, count, seqStart: seq }, 120_000);
      seq += count;
    },
    async connectTo(total) {
      const count = total - open;
      const result = await subscribers.call('connect', { wire: wires, layout, count, concurrency: 50 }, 300_000);
      open = result.open;
      return { count, ...result };
    },
    async waitReady(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let probes = 0;
      for (;;) {
        await probe();
        probes += 1;
        await sleep(150);
        const state = await subscribers.call('readiness', undefined);
        if ((state.withData >= state.open && state.open > 0) || Date.now() > deadline) return { ...state, probes };
      }
    },
    async waitQuiet(quietMs = 300, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const progress = await subscribers.call('progress', undefined);
        if (progress.msSinceLastData >= quietMs) return true;
        if (Date.now() > deadline) return false;
        await sleep(100);
      }
    },
    async waitCalm(maxCores, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const foreign = foreignCpuMeter(measuredPids);
        // 300 ms per sample (it was a second, then half): this runs before every step of every peer.
        await sleep(300);
        const cores = foreign();
        if (cores < maxCores || Date.now() > deadline) return round(cores, 2);
      }
    },
    async runStep(plan) {
      const { subscribers: target, rate, warmupSeconds, measureSeconds, p99LimitMs, drainCapMs = 8_000, payloadBytes, churn } = plan;
      const label = stepLabel({ subscribers: target, rate, payloadBytes, topics: layout.kind === 'topics' ? layout.topics : undefined, groups: layout.kind === 'groups' });
      const warm = Math.round(rate * warmupSeconds);
      const measured = Math.round(rate * measureSeconds);
      const stepFrom = seq;
      const windowFrom = stepFrom + warm;
      const windowTo = windowFrom + measured;
      seq = windowTo;

      // Drops stop one offline pause before publishing ends: the last clients are back by then, and the step need not wait for them.
      const churnFor = churn ? { ...churn, forMs: Math.max(0, ((warm + measured) / rate) * 1000 - churn.offlineMs) } : undefined;
      const { audience } = await subscribers.call('startStep', { stepFrom, windowFrom, windowTo, ...(payloadBytes ? { payloadBytes } : {}), ...(churnFor ? { churn: churnFor } : {}) });
      const stepCpu = cpuMeter(peer.pid);
      const publishing = publisher.call(
        'publish',
        { spec: specs, layout, rate, count: warm + measured, seqStart: stepFrom, windowFrom, windowTo, ...(payloadBytes ? { payloadBytes } : {}), recordSentAt: Boolean(churn) },
        (warmupSeconds + measureSeconds) * 1000 + 60_000,
      );
      await sleep(warmupSeconds * 1000);
      // Meters first: an overloaded server may take long to answer the stats reset.
      const serverWindow = cpuMeter(peer.pid);
      const generatorWindow = cpuMeter(generatorPid);
      const publisherWindow = cpuMeter(publisherPid);
      const redisWindow = options.redisPid ? cpuMeter(options.redisPid) : undefined;
      const pressureStart = cpuPressureMicros();
      const foreignWindow = foreignCpuMeter(measuredPids);
      const windowStarted = performance.now();
      // The loop-delay window starts when the server handles the reset; one that waited in a queue is no window.
      const resetSent = performance.now();
      let resetMs = Number.POSITIVE_INFINITY;
      const reset = peer.resetStats().then(
        () => void (resetMs = performance.now() - resetSent),
        () => undefined,
      );
      const published = await publishing;
      const windowSeconds = (performance.now() - windowStarted) / 1000;
      const serverUtilization = serverWindow.utilization();
      // Efficiency over the measured window alone: warm-up, drain and the stats calls around a step are fixed costs
      // that would weigh more in a short step and pull every peer's figure toward the same value.
      const serverWindowCpuSeconds = serverWindow.seconds();
      const serverWait = serverWindow.waitShare();
      const generatorUtilization = generatorWindow.utilization();
      const generatorWait = generatorWindow.waitShare();
      const publisherUtilization = publisherWindow.utilization();
      const redisUtilization = redisWindow?.utilization();
      const pressure = (cpuPressureMicros() - pressureStart) / 1e6 / windowSeconds;
      const foreignCores = foreignWindow();
      await reset;
      const serverStats = await peer.stats().catch(() => ({}) as Awaited<ReturnType<RunningPeer['stats']>>);
      const rss = rssBytes(peer.pid);
      // With churn, a client without resume is owed only what was published while it was subscribed.
      const owed = churn ? await subscribers.call('stopChurn', { sentAt: published.sentAt }, 60_000) : undefined;

      // Drain: wait for the deliveries still in flight, or until nothing arrives for 2 s, or the cap.
      // Every event of the step (a failed publish is counted too: it may still have been delivered).
      const expectedStep = Math.round((owed?.owedStep ?? expectedFor(audience, stepFrom, windowTo)) * (published.ok / Math.max(1, published.sent)));
      const drainStarted = performance.now();
      for (;;) {
        const progress = await subscribers.call('progress', undefined);
        const waited = performance.now() - drainStarted;
        if (progress.stepDelivered >= expectedStep) break;
        if (waited > drainCapMs || (waited > 500 && progress.msSinceLastData > 2_000)) break;
        await sleep(50);
      }
      const drainMs = Math.round(performance.now() - drainStarted);
      const cpuSecondsStep = stepCpu.seconds();
      const report = await subscribers.call('report', churn ? { sentAt: published.sentAt } : undefined);

      const nominalWindowSeconds = measured / rate;
      // Every event the publisher sent counts as offered: a publish that timed out may still have been delivered.
      const publishedDeliveries = expectedFor(audience, windowFrom, windowTo);
      const expectedDeliveries = owed?.owedWindow ?? publishedDeliveries;
      const deliveryRatio = expectedDeliveries === 0 ? 0 : report.windowDelivered / expectedDeliveries;
      const publishFailures = published.sent - published.ok;
      const passes =
        expectedDeliveries > 0 &&
        report.windowDelivered === expectedDeliveries &&
        report.latency.p99Ms < p99LimitMs &&
        publishFailures === 0 &&
        report.openAtEnd === report.subscribersAtStart &&
        report.subscribersAtStart === target;
      return {
        label,
        ...(payloadBytes ? { payloadBytes } : {}),
        subscribers: target,
        rate,
        status: 'measured',
        warmupSeconds,
        measureSeconds,
        offeredEventsPerSec: round(measured / nominalWindowSeconds, 2),
        deliveredEventsPerSec: round(report.windowDelivered / Math.max(1, report.subscribersAtStart / (layout.kind === 'topics' ? layout.topics : 1)) / nominalWindowSeconds, 2),
        deliveriesPerSec: Math.round(report.windowDelivered / nominalWindowSeconds),
        publishedInWindow: published.okInWindow,
        publishFailures,
        publishErrorSamples: published.errorSamples,
        publishHttpMs: published.httpMs,
        publisherMaxLateMs: published.maxLateMs,
        expectedDeliveries,
        delivered: report.windowDelivered,
        stepDelivered: report.stepDelivered,
        deliveryRatio: round(deliveryRatio, 5),
        latency: report.latency,
        passes,
        server: {
          cpuUtilization: round(serverUtilization),
          runQueueWaitShare: round(serverWait),
          cpuSecondsStep: round(cpuSecondsStep),
          deliveriesPerCpuSecond: Math.round(report.windowDelivered / serverWindowCpuSeconds),
          rssBytes: rss,
          heapUsedBytes: serverStats.heapUsedBytes ?? Number.NaN,
          eventLoopDelayP99Ms: resetMs < 1_000 ? beyondSampling(serverStats.eventLoopDelayP99Ms) : Number.NaN,
          eventLoopDelayMaxMs: resetMs < 1_000 ? beyondSampling(serverStats.eventLoopDelayMaxMs) : Number.NaN,
        },
        generator: {
          cpuUtilization: round(generatorUtilization),
          runQueueWaitShare: round(generatorWait),
          eventLoopDelayP99Ms: beyondSampling(report.eventLoopDelayP99Ms),
          eventLoopDelayMaxMs: beyondSampling(report.eventLoopDelayMaxMs),
        },
        publisher: { cpuUtilization: round(publisherUtilization) },
        machineCpuPressure: round(pressure),
        // Below zero is measurement noise (tick granularity, interrupt time charged to our processes).
        foreignCpuCores: round(Math.max(0, foreignCores), 2),
        attempts: 1,
        windowSeconds: round(windowSeconds, 2),
        ...(redisUtilization === undefined ? {} : { redis: { cpuUtilization: round(redisUtilization) } }),
        drainMs,
        subscribersAtStart: report.subscribersAtStart,
        openAtEnd: report.openAtEnd,
        eventsFullyDelivered: report.eventsFullyDelivered,
        perSubscriberMin: report.perSubscriberMin,
        perSubscriberMax: report.perSubscriberMax,
        duplicates: report.duplicates,
        reordered: report.reordered,
        stale: report.stale,
        malformed: report.malformed,
        clientErrors: report.errors,
        clientErrorSamples: report.errorSamples,
        closes: report.closes,
        histogram: report.histogram,
        ...(churn
          ? {
              churn: {
                ...churn,
                ...report.churn,
                publishedDeliveries,
                completeness: round(report.windowDelivered / Math.max(1, publishedDeliveries), 5),
                replayed: report.replayed,
                deliveredWhileAway: report.deliveredWhileAway,
              },
            }
          : {}),
      };
    },
    async close() {
      await subscribers.call('close', undefined, 30_000).catch(() => undefined);
      generatorChild.disconnect();
      publisherChild.disconnect();
      await sleep(100);
      for (const child of [generatorChild, publisherChild]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
