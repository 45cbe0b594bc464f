/**
 * Scenario `two-instances`: the fan-out steps with one instance of ours and with two instances sharing
 * PostgreSQL and Redis (publish on A, every subscriber on B), measured back to back in the same run, so the
 * difference is what crossing Redis Pub/Sub between processes costs. The goal: ≤ 1 ms more at p50, ≤ 5 ms at p99.
 */
import type { PlatformBuild } from '../peers/platform-build.js';
import type { FanoutResult } from '../report/results.js';
import { runFanout } from './fanout.js';

export interface TwoInstancesOptions {
  quick?: boolean;
  log: (line: string) => void;
  platform: PlatformBuild;
}

export function runTwoInstances(options: TwoInstancesOptions): Promise<FanoutResult> {
  const plan = options.quick
    ? [
        { subscribers: 100, rate: 10 },
        { subscribers: 100, rate: 10, payloadBytes: 10 * 1024 },
      ]
    : [
        { subscribers: 1000, rate: 10 },
        // What crossing Redis costs for larger events (10 KB at the lowest rate; 1 KB runs in fanout, cdc and webhooks only, so the suite keeps its 10 minutes).
        { subscribers: 1000, rate: 10, payloadBytes: 10 * 1024 },
        { subscribers: 1000, rate: 50 },
      ];
  // Three rounds per step, reported as medians: one round's p99 moves by more than the 5 ms the goal allows.
  return runFanout({ ...options, peers: ['ours', 'ours-2x'], plan, scenario: 'two-instances', rounds: options.quick ? 2 : 3 });
}
