#!/usr/bin/env node
/**
 * Runs the benchmark scenarios and writes `bench/results/<scenario>.json` and `bench/results/SUMMARY.md`.
 *
 *   node bench/dist/run.js                 every scenario but profile (fanout, topics, groups, idle, cdc, sync, two-instances, webhooks)
 *   node bench/dist/run.js fanout          one scenario
 *   node bench/dist/run.js fanout --peers ours,ws-ceiling --quick
 *
 * Options: `--peers a,b` (default: each scenario's own), `--quick` (small and short: checks the harness, numbers are
 * not meaningful and are written to bench/results/quick/), `--no-build` (run the existing server/dist as is),
 * `--ours-ref <git ref>` (measure that commit, built outside the working tree; also the fallback, with HEAD,
 * when the working tree does not compile).
 * Needs PostgreSQL and Redis on 127.0.0.1 (BENCH_POSTGRES_URL, BENCH_REDIS_URL to override).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllNow, runCleanups } from './support/children.js';
import { FANOUT_PEERS, PEER_NAMES, REPO_ROOT, type PeerName } from './peers/peers.js';
import { preparePlatform, type PlatformBuild } from './peers/platform-build.js';
import { runFanout } from './scenarios/fanout.js';
import { runIdle } from './scenarios/idle.js';
import { runProfile } from './scenarios/profile.js';
import { runTwoInstances } from './scenarios/two-instances.js';
import { runTopics } from './scenarios/topics.js';
import { runGroups } from './scenarios/groups.js';
import { runCdc } from './scenarios/cdc.js';
import { runWebhooks } from './scenarios/webhooks.js';
import { runSync } from './scenarios/sync.js';
import { writeSummary } from './report/summary.js';
import { sweepOrphans } from './support/services.js';

interface ScenarioContext {
  /** The peers asked for with --peers, or undefined for each scenario's own default. */
  peers: PeerName[] | undefined;
  quick: boolean;
  log: (line: string) => void;
  platform: PlatformBuild;
  /**
   * This scenario's share of the suite's remaining time (see SCENARIO_WEIGHTS). Scenarios that repeat a
   * measurement (rounds, second attempts) repeat less once they fall behind it; nothing else changes.
   */
  budgetMs: number;
}

/**
 * Every scenario, in the order a full run takes them; each is runnable alone by name. The two whose rounds can
 * give way to the time budget (see ScenarioContext.budgetMs) run last, so that on a slow machine they absorb
 * what the others overran, and every scenario still runs.
 */
const SCENARIO_RUNNERS = {
  fanout: (c: ScenarioContext) => runFanout({ ...c, peers: c.peers ?? FANOUT_PEERS }),
  topics: (c: ScenarioContext) => runTopics(c),
  groups: (c: ScenarioContext) => runGroups(c),
  idle: (c: ScenarioContext) => runIdle({ ...c, peers: c.peers ?? FANOUT_PEERS }),
  profile: (c: ScenarioContext) => runProfile({ ...c, peers: (c.peers ?? FANOUT_PEERS).filter((p) => p !== 'socketio' && p !== 'ours-2x') }),
  cdc: (c: ScenarioContext) => runCdc({ quick: c.quick, log: c.log, platform: c.platform }),
  sync: (c: ScenarioContext) => runSync({ quick: c.quick, log: c.log, platform: c.platform }),
  'two-instances': (c: ScenarioContext) => runTwoInstances(c),
  webhooks: (c: ScenarioContext) => runWebhooks({ quick: c.quick, log: c.log, platform: c.platform, budgetMs: c.budgetMs }),
} satisfies Record<string, (context: ScenarioContext) => Promise<unknown>>;
const SCENARIOS = Object.keys(SCENARIO_RUNNERS) as (keyof typeof SCENARIO_RUNNERS)[];
type ScenarioName = (typeof SCENARIOS)[number];
/** Diagnostics, not comparisons: run only when named (`node bench/dist/run.js profile`), so the suite fits its 10 minutes. */
const ON_REQUEST: readonly ScenarioName[] = ['profile'];

/** The whole suite must end within this; a run that overruns is stopped and cleaned up. */
const SUITE_LIMIT_MS = 10 * 60_000;
/** Kept free at the end of the suite (summary, cleanups) when the scenarios' budgets are shared out. */
const SUITE_RESERVE_MS = 30_000;
/**
 * Each scenario's share of the suite's time: its seconds in a full run on a fast day (2026-11-29 morning, 452 s
 * in all; fanout with its goal rounds). Before each scenario, the time left is shared out among the scenarios
 * still to run in these proportions. On a slow day (the same suite took over 11 minutes that afternoon, and
 * `idle` twice its fast time) the scenarios measured last drop their optional repetitions instead of being
 * stopped by the limit.
 */
const SCENARIO_WEIGHTS: Record<ScenarioName, number> = { fanout: 145, topics: 41, groups: 62, 'two-instances': 81, idle: 38, profile: 30, cdc: 38, webhooks: 43, sync: 34 };

const log = (line: string): void => console.log(line);

function parse(): { scenarios: ScenarioName[]; peers: PeerName[] | undefined; quick: boolean; build: boolean; oursRef: string | undefined } {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      peers: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'ours-ref': { type: 'string' },
    },
  });
  const unknown = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; scenarios: ${SCENARIOS.join(', ')}`);
  const peers = values.peers ? values.peers.split(',').map((p) => p.trim()) : undefined;
  const badPeer = peers?.find((p) => !(PEER_NAMES as readonly string[]).includes(p));
  if (badPeer) throw new Error(`unknown peer ${badPeer}; peers: ${PEER_NAMES.join(', ')}`);
  return {
    scenarios: positionals.length > 0 ? (positionals as ScenarioName[]) : SCENARIOS.filter((s) => !ON_REQUEST.includes(s)),
    peers: peers as PeerName[] | undefined,
    quick: values.quick ?? false,
    build: !(values['no-build'] ?? false),
    oursRef: values['ours-ref'],
  };
}

async function main(): Promise<void> {
  const options = parse();
  const started = Date.now();
  const resultsDir = fileURLToPath(new URL(options.quick ? '../results/quick/' : '../results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const limit = setTimeout(() => {
    console.error(`the suite ran past ${SUITE_LIMIT_MS / 60_000} minutes: stopping`);
    // The scenario still running loses its servers mid-request: its failures are expected now, not a crash.
    process.on('unhandledRejection', () => undefined);
    process.on('uncaughtException', () => undefined);
    killAllNow();
    // The scenarios that finished wrote their results: the summary still shows them (the rest keep their earlier runs, dated).
    writeSummary(resultsDir);
    console.error(`wrote ${join(resultsDir, 'SUMMARY.md')} from the scenarios that finished`);
    void runCleanups().finally(() => process.exit(2));
  }, SUITE_LIMIT_MS);
  limit.unref();

  for (const line of await sweepOrphans()) log(`removed a leftover of a killed bench run: ${line}`);

  let platform: PlatformBuild = { root: REPO_ROOT, description: 'not needed' };
  if (!options.peers || options.peers.some((p) => p.startsWith('ours'))) {
    platform = options.build
      ? preparePlatform({ ref: options.oursRef, log })
      : { root: REPO_ROOT, description: 'the existing server/dist of the working tree (--no-build)' };
    log(`ours: ${platform.description}`);
  }

  // One scenario failing (say PostgreSQL without logical replication for cdc) must not cost the others their run:
  // its previous results file stays (dated in the summary), and the run exits non-zero naming it.
  const failed: string[] = [];
  for (const [i, scenario] of options.scenarios.entries()) {
    const left = SUITE_LIMIT_MS - SUITE_RESERVE_MS - (Date.now() - started);
    const weights = options.scenarios.slice(i).reduce((sum, name) => sum + SCENARIO_WEIGHTS[name], 0);
    const budgetMs = Math.max(0, Math.round((left * SCENARIO_WEIGHTS[scenario]) / weights));
    try {
      const result = await SCENARIO_RUNNERS[scenario]({ peers: options.peers, quick: options.quick, log, platform, budgetMs });
      writeFileSync(join(resultsDir, `${scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
      log(`\nwrote ${join(resultsDir, `${scenario}.json`)}`);
    } catch (error) {
      failed.push(scenario);
      log(`\nscenario ${scenario} failed, its results were not written: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  writeSummary(resultsDir);
  log(`wrote ${join(resultsDir, 'SUMMARY.md')} (${Math.round((Date.now() - started) / 1000)} s in all)`);
  if (failed.length > 0) throw new Error(`scenarios that failed (their previous results, if any, are still in the summary): ${failed.join(', ')}`);
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  })
  .finally(async () => {
    killAllNow();
    await runCleanups();
    // Lingering keep-alive sockets or Redis clients must not keep the bench alive.
    setTimeout(() => process.exit(), 200).unref();
  });
