/**
 * Scenario `groups`: every client holds two subscriptions on one socket, its personal stream and its group's
 * (groups of 10: client i is in group floor(i / 10)), and 2 % of the clients a second are dropped abruptly and
 * reconnect 1 s later (a network blip: reconnecting at once over loopback takes a few milliseconds, in which
 * hardly anything is published, so nothing would tell resuming from resubscribing; a real client is offline for
 * a while and then backs off before it reconnects). Half the events by count are personal (to one client), half
 * go to a group (to 10).
 *
 * Rates: at 200 events/s, each client gets a personal event every 10 s and a group event a second (1,100
 * deliveries/s), a chat or notification app's steady state; 1,000/s is five times that (5,500 deliveries/s,
 * about half the deliveries of fan-out's 1000 × 10/s, spread over 1,100 channels instead of one). The 10 KB
 * variant runs at 200/s.
 *
 * Ours reconnects as its users would: each subscription resumes with `after:` the cursor of the last event it
 * got, so it is owed every event. Ours models the streams as two topics (types) filtered by subject —
 * `benchPersonal(where: { subject: { eq: "u17" } })`, `benchGroup(where: { subject: { eq: "g1" } })`; a root
 * `subject: { eq }` is routed by an index of subjects (core/src/redis/subscriber.ts), as the peers route by a room or
 * channel per user and per group. A resuming subscription, though, reads the topic's history after its cursor and
 * filters it: a personal stream's cursor is as old as that user's last event, so each resume reads every event of
 * the topic since then.
 * The peers have no resume: a reconnecting client resubscribes, is owed only what was published while it was
 * subscribed, and what it missed shows in `churn.completeness`.
 */
import { FANOUT_PEERS, type PeerName } from '../peers/peers.js';
import type { PlatformBuild } from '../peers/platform-build.js';
import type { FanoutResult } from '../report/results.js';
import { runFanout } from './fanout.js';

export interface GroupsOptions {
  peers?: readonly PeerName[] | undefined;
  quick?: boolean;
  log: (line: string) => void;
  platform: PlatformBuild;
}

export const GROUP_SIZE = 10;
/** Share of the clients dropped each second, and how long each stays offline: about 2 % are away at any time. */
export const CHURN_SHARE = 0.02;
export const OFFLINE_MS = 1_000;

export function runGroups(options: GroupsOptions): Promise<FanoutResult> {
  const clients = options.quick ? 100 : 1000;
  const plan = options.quick
    ? [
        { subscribers: clients, rate: 100 },
        { subscribers: clients, rate: 100, payloadBytes: 10 * 1024 },
      ]
    : [
        { subscribers: clients, rate: 200 },
        { subscribers: clients, rate: 200, payloadBytes: 10 * 1024 },
        { subscribers: clients, rate: 1000 },
      ];
  return runFanout({
    ...options,
    peers: options.peers ?? FANOUT_PEERS,
    plan,
    // 2 s measured per step (fanout measures 3): still 400,000 deliveries at 200/s, and the suite keeps its 10 minutes.
    measureSeconds: 2,
    groups: { groupSize: GROUP_SIZE, churnShare: CHURN_SHARE, offlineMs: OFFLINE_MS },
    scenario: 'groups',
  });
}
