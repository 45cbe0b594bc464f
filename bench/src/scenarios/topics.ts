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
        { subscribers: 1000, rate: 100 },
        // The same load with 10 KB events (the larger payloads at the lowest rate; 1 KB runs in fanout, cdc and webhooks only, where it is cheap, so the suite keeps its 10 minutes).
        { subscribers: 1000, rate: 100, payloadBytes: 10 * 1024 },
        { subscribers: 1000, rate: 500 },
      ];
  return runFanout({ ...options, peers: options.peers ?? FANOUT_PEERS, plan, topics: BENCH_TOPICS, scenario: 'topics' });
}
