/** The raw results files (`bench/results/<scenario>.json`): written by scenarios, read by the summary. */
import type { LatencySummary } from '../load/subscribers.js';
import type { PeerName } from '../peers/peers.js';
import type { MachineInfo } from '../support/proc.js';

export interface StepResult {
  /** `1000 subs × 25/s` */
  label: string;
  subscribers: number;
  rate: number;
  /** Size of each event's data when not the default 300 B. */
  payloadBytes?: number;
  status: 'measured' | 'skipped' | 'failed';
  note?: string;
  warmupSeconds: number;
  measureSeconds: number;
  /** Events per second the publisher sent in the measured window (those that failed included). */
  offeredEventsPerSec: number;
  /** Deliveries in the window ÷ subscribers ÷ window seconds. */
  deliveredEventsPerSec: number;
  deliveriesPerSec: number;
  publishedInWindow: number;
  publishFailures: number;
  publishErrorSamples: string[];
  publishHttpMs: { p50: number; p99: number; max: number };
  publisherMaxLateMs: number;
  expectedDeliveries: number;
  /** Deliveries of the window's events (each subscriber counted once per event). */
  delivered: number;
  /** Deliveries of every event of the step, warm-up included. */
  stepDelivered: number;
  deliveryRatio: number;
  latency: LatencySummary;
  /** Every event delivered to every subscriber, p99 < 50 ms, no publish failed, no subscriber lost. */
  passes: boolean;
  server: {
    /** Fraction of one core during the measured window. */
    cpuUtilization: number;
    /** Fraction of the window its event-loop thread was runnable but waiting for the CPU (other processes on its core). */
    runQueueWaitShare: number;
    /** CPU seconds from the step's first publish until its last delivery (or the drain cap). */
    cpuSecondsStep: number;
    /** Deliveries of the measured window's events ÷ the server's CPU seconds during that window. */
    deliveriesPerCpuSecond: number;
    rssBytes: number;
    heapUsedBytes: number;
    /** NaN when the server was too busy to start the window in time (its stats reset waited over 1 s). */
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
  };
  generator: { cpuUtilization: number; runQueueWaitShare: number; eventLoopDelayP99Ms: number; eventLoopDelayMaxMs: number };
  publisher: { cpuUtilization: number };
  /** Share of the window in which some task on the machine waited for a CPU (/proc/pressure/cpu "some"). */
  machineCpuPressure: number;
  /** From the window's start until the last publish was answered. */
  windowSeconds: number;
  /** CPU used during the window by processes outside the measurement (other people's work), in cores. */
  foreignCpuCores: number;
  /**
   * 2 when the first attempt was disturbed by other processes or failed on p99 alone by less than 250 ms: the step
   * was run again and the attempt with the lower p99 is the one reported.
   */
  attempts: number;
  /** The attempt not reported, when there were two. */
  otherAttempt?: { p99Ms: number; deliveryRatio: number; deliveriesPerCpuSecond: number; foreignCpuCores: number };
  /** When the step was measured in rounds (see FanoutOptions.rounds): every round, in order; this step is the median one. */
  rounds?: { p50Ms: number; p99Ms: number; deliveryRatio: number; deliveriesPerCpuSecond: number; foreignCpuCores: number; passes: boolean }[];
  /** The machine's redis-server (shared with anything else using it). */
  redis?: { cpuUtilization: number };
  drainMs: number;
  subscribersAtStart: number;
  openAtEnd: number;
  eventsFullyDelivered: number;
  perSubscriberMin: number;
  perSubscriberMax: number;
  duplicates: number;
  /** Deliveries that came after an event published later (overlapping publishes may be stored in another order). */
  reordered: number;
  stale: number;
  malformed: number;
  clientErrors: number;
  clientErrorSamples: string[];
  closes: Record<string, number>;
  /** HdrHistogram (compressed base64) of the window's latencies in microseconds. */
  histogram: string;
  /** Steps that dropped and reconnected clients (`groups`). `latency` then covers live deliveries only. */
  churn?: ChurnResult;
}

/**
 * Clients dropped and reconnected during a step. `expectedDeliveries` counts what was owed: for a peer without
 * resume, the events published while the client was subscribed; for ours, every event (it resumes).
 */
export interface ChurnResult {
  /** Clients dropped per second. */
  perSecond: number;
  /** How long a dropped client stays offline before it reconnects. */
  offlineMs: number;
  reconnects: number;
  failed: number;
  /** End of the offline pause → subscriptions sent again. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The window's deliveries had no client ever been away. */
  publishedDeliveries: number;
  /** delivered ÷ publishedDeliveries: what clients actually got of everything published to them. */
  completeness: number;
  /** Deliveries of events published before the connection that got them was subscribed (resume replays). */
  replayed: number;
  /** Deliveries of events published while their client was away (not owed, not counted as delivered). */
  deliveredWhileAway: number;
}

export interface PeerResult {
  peer: PeerName;
  description: string;
  startupMs: number;
  connects: { count: number; open: number; failed: number; ms: number }[];
  steps: StepResult[];
  crashed: boolean;
  error?: string;
  serverOutputTail?: string;
  idleRssBytes?: number;
}

export interface FanoutResult {
  /** `two-instances` runs the same steps with `ours` and `ours-2x`. */
  scenario: 'fanout' | 'two-instances' | 'topics' | 'groups';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  /** How server/dist was obtained: built just before, or an older build when the working tree did not compile. */
  platformBuild: string;
  settings: {
    payloadBytes: number;
    warmupSeconds: number;
    measureSeconds: number;
    /** Publishes each server handled before its first subscriber connected (JIT warm-up); absent in older results. */
    warmupPublishes?: number;
    plan: { subscribers: number; rate: number; payloadBytes?: number; topics?: number }[];
    pinned: boolean;
    serverCore: number | null;
    loadCore: number | null;
    p99LimitMs: number;
    /** `groups`: clients per group and the share of clients dropped and reconnected each second. */
    groups?: { groupSize: number; churnShare: number; offlineMs: number };
  };
  peers: PeerResult[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) samples. */
  share: number;
}

export interface PeerProfile {
  peer: PeerName;
  step: string;
  delivered: number;
  busyMs: number;
  /** Busy milliseconds per 1,000 deliveries. */
  busyMsPerThousandDeliveries: number;
  byCategory: ProfileEntry[];
  topFunctions: ProfileEntry[];
  error?: string;
}

export interface ProfileResult {
  scenario: 'profile';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  platformBuild: string;
  note: string;
  peers: PeerProfile[];
}

/** Scenario `cdc` (bench/src/scenarios/cdc.ts). Latencies in milliseconds, rates per second. */
/** One sustained-rate attempt of the `cdc` scenario. */
export interface CdcSustained {
  /** The share of the burst's drain rate offered (absent in results from before attempts were kept). */
  shareOfDrainRate?: number;
  offeredChangesPerSec: number;
  seconds: number;
  backlogAtEnd: number;
  slotLagBytesTwoSecondsLater: number;
  lagNotGrowing: boolean;
}

export interface CdcResult {
  scenario: 'cdc';
  startedAt: string;
  machine: MachineInfo;
  platform: string;
  quick: boolean;
  /** Single-row transactions at a fixed rate: commit returned to the writer → subscriber receipt. */
  latency: {
    rate: number;
    seconds: number;
    /** The same load run first, unmeasured (the process warming up), and what it measured. */
    warmUp?: { seconds: number; committed: number; delivered: number; latency: LatencySummary };
    achievedTxPerSec: number;
    committed: number;
    delivered: number;
    failures: number;
    slotLagBytesAtEnd: number;
    /** From the writer seeing its COMMIT reply (events that arrive earlier count 0). */
    latency: LatencySummary;
    /** Share of events that reached the subscriber before the writer processed its COMMIT reply. */
    arrivedBeforeCommitReplyShare: number;
    /** From sending the single-statement transaction (includes its execution and commit). */
    fromSend: LatencySummary;
  };
  /** A burst written as fast as possible: how fast the pipeline drains it. */
  capacity: { rows: number; writeRowsPerSec: number; delivered: number; drainChangesPerSec: number; maxSlotLagBytes: number };
  /** A bare pg-logical-replication consumer of the burst's WAL: decoding and transfer only. */
  rawDecode: { changes: number; changesPerSec: number; firstChangeAfterMs: number };
  /** The first attempt (highest rate first) whose lag did not grow, or the last one; every attempt in `attempts`. */
  sustained: CdcSustained & { attempts?: CdcSustained[] };
  /** The same latency phase (shorter) and a smaller burst with larger rows (`pad` of rowBytes). */
  sizes?: { rowBytes: number; latency: CdcResult['latency']; capacity: CdcResult['capacity']; rawDecode: CdcResult['rawDecode'] }[];
}

/** One rate of the `sync` scenario: patches on one document, watched by every subscriber. */
export interface SyncStep {
  label: string;
  /** Patches per second offered (fixed rate). */
  rate: number;
  /** The patch's pad when larger than the default 200 bytes. */
  padBytes?: number;
  status: 'measured' | 'failed';
  error?: string;
  /** Patches acknowledged per second over the whole write (warm-up included). */
  patchesPerSec: number;
  sent: number;
  acknowledged: number;
  /** Changes delivered to subscribers in the window / (window patches × subscribers). */
  deliveryRatio: number;
  /** Subscribers whose copy reached the final version, and whether all copies were equal to the server's. */
  converged: number;
  identicalToServer: boolean;
  /** Writer's send → one subscriber's copy updated. */
  latency: { count: number; p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number };
  /** Writer's send → the last subscriber's copy updated (per version). */
  convergence: { count: number; p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number };
  /** Mutation answer times at the writer. */
  ackMs: { p50: number; p99: number; max: number };
  /** runQueueWaitShare: the share of the step the server's main thread waited for a CPU it wanted. */
  server: { cpuUtilization: number; runQueueWaitShare: number; deliveriesPerCpuSecond: number; patchesPerCpuSecond: number; rssBytes: number };
  redis?: { cpuUtilization: number };
  generator: { cpuUtilization: number };
  writer: { cpuUtilization: number; maxLateMs: number };
  violations: string[];
  /** Cores other people's processes used during the step: above 0.2 the step was disturbed. */
  foreignCpuCores: number;
  /** 2 when the step was disturbed and run again (the better attempt is reported). */
  attempts?: number;
  passes: boolean;
}

/** One server measured by the `sync` scenario. */
export interface SyncPeerResult {
  peer: 'ours' | 'naive-sync';
  description: string;
  steps: SyncStep[];
  error?: string;
}

export interface SyncResult {
  scenario: 'sync';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  platformBuild: string;
  settings: { subscribers: number; documentBytes: number; patchBytes: number; warmupSeconds: number; measureSeconds: number; rates: number[]; pinned: boolean; p99LimitMs: number };
  peers: SyncPeerResult[];
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? (sorted[Math.floor(middle)] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A step's p50 or p99: the median over its rounds when it was measured in rounds, else its own. */
export function medianLatency(step: StepResult, key: 'p50Ms' | 'p99Ms'): number {
  if (!step.rounds || step.rounds.length === 0) return step.latency[key];
  return median(step.rounds.map((round) => round[key]));
}

/**
 * A step the server could not keep up with (most events late or lost, or subscriptions dropped): heavier steps of
 * that peer are skipped, its figure at the step is its capacity, and it is not measured there again.
 */
export const overloaded = (step: StepResult): boolean =>
  step.status === 'failed' || step.deliveryRatio < 0.9 || step.latency.p99Ms > 2_000 || step.openAtEnd < step.subscribersAtStart;
