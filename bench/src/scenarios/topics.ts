/**
 * Scenario `topics`: the fan-out steps with each peer's subscribers spread over 10 topics (subscriber i on
 * topic i mod 10) and events published round-robin over them, so each event reaches a tenth of the sockets.
 * Against one topic this adds per-topic routing (a channel or room per topic, a subscription per field).
 */
import { BENCH_TOPICS, FANOUT_PEERS, type PeerName } from '../peers/peers.js';
import type { PlatformBuild } from '../peers/platform-build.js';
import type { FanoutResult } from '../report/results.js';
import { runFanout } from './fanout.js';

export interface TopicsOptions {
  peers?: readonly PeerName[] | undefined;
  quick?: boolean;
  log: (line: string) => void;
  platform: PlatformBuild;
}

export function runTopics(options: TopicsOptions): Promise<FanoutResult> {
  const plan = options.quick
    ? [
        { subscribers: 100, rate: 20 },
        { subscribers: 100, rate: 20, payloadBytes: 10 * 1024 },
      ]
    : [
        // Rates are totals over the 10 topics: 100/s is 10/s per topic, as many deliveries as 1000 × 10/s on one.
        // 300-byte events only (the 10 KB step was cut so that the suite keeps its 10 minutes on a slower machine:
        // 10 KB runs in fanout, groups and sync, 1 KB in fanout, cdc and webhooks).
        { subscribers: 1000, rate: 100 },
        { subscribers: 1000, rate: 500 },
      ];
  // 2 s measured per step (fanout measures 3): still 20,000 latency samples at 100/s, and the suite keeps its 10 minutes.
  return runFanout({ ...options, peers: options.peers ?? FANOUT_PEERS, plan, topics: BENCH_TOPICS, scenario: 'topics', measureSeconds: 2 });
}
