/**
 * Scenario `idle`: what an open, idle subscription costs each server (RSS growth over N open subscriptions,
 * each proven live by one probe event), and — ours only, the peers have no resume — a reconnect avalanche:
 * every client dropped at once while events are published, then every client back at once resuming with its
 * cursor. Goals: ≤ 30 KB per idle subscription; 10,000 reconnects resumed within 10 s.
 */
import { fileURLToPath } from 'node:url';
import { canPin, forkModule, pin, sleep } from '../support/children.js';
import { cpuSeconds, machineInfo, rssBytes, type MachineInfo } from '../support/proc.js';
import { redisServerPid } from '../support/services.js';
import { rpcClient } from '../support/rpc.js';
import { createRig } from '../load/rig.js';
import { makeTick, publishRequest, publishSucceeded, type PublishSpec } from '../load/wire.js';
import type { AvalancheMethods } from '../load/avalanche.js';
import { PEER_DESCRIPTIONS, startPeer, type PeerName, type RunningPeer } from '../peers/peers.js';
import type { PlatformBuild } from '../peers/platform-build.js';

export interface IdleOptions {
  peers: readonly PeerName[];
  quick?: boolean;
  log: (line: string) => void;
  platform: PlatformBuild;
}

export interface IdlePeerResult {
  peer: PeerName;
  description: string;
  subscriptions: number;
  open: number;
  live: number;
  connectMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSubscription: number;
  error?: string;
}

export interface AvalancheResult {
  clients: number;
  missedEvents: number;
  resumed: number;
  resumedWithin10s: number;
  allResumedMs: number | null;
  p50Ms: number;
  p99Ms: number;
  inexact: number;
  retries: number;
  errors: number;
  errorSamples: string[];
  /**
   * CPU spent from the drop until every client had resumed (or the resume phase ended), per client, in µs:
   * the server's, and Redis's. Steadier than the times above on a shared machine: CPU spent is CPU spent.
   */
  serverCpuMicrosPerClient?: number;
  redisCpuMicrosPerClient?: number;
  error?: string;
}

export interface IdleResult {
  scenario: 'idle';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  platformBuild: string;
  settings: { subscriptions: number; avalancheClients: number; missedEvents: number; concurrency: number };
  peers: IdlePeerResult[];
  avalanche?: AvalancheResult;
}

async function publishOne(spec: PublishSpec, seq: number): Promise<void> {
  const data = makeTick(seq);
  const { body, headers } = publishRequest(spec, data);
  const response = await fetch(spec.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!publishSucceeded(spec, response.status, text)) throw new Error(`publish ${seq} failed: ${response.status} ${text.slice(0, 200)}`);
}

async function measureIdle(peer: RunningPeer, subscriptions: number, loadCore: number | null, log: (line: string) => void): Promise<IdlePeerResult> {
  const rig = createRig(peer, { loadCore });
  try {
    await sleep(1_000);
    const rssBeforeBytes = rssBytes(peer.pid);
    const connect = await rig.connectTo(subscriptions);
    const ready = await rig.waitReady(60_000);
    await rig.waitQuiet();
    // Let the server settle (GC, buffers) before reading its memory.
    await sleep(2_000);
    const rssAfterBytes = rssBytes(peer.pid);
    const bytesPerSubscription = Math.round((rssAfterBytes - rssBeforeBytes) / Math.max(1, connect.open));
    log(`[${peer.name}] ${connect.open} open, ${ready.withData} live; RSS ${Math.round(rssBeforeBytes / 1e6)} → ${Math.round(rssAfterBytes / 1e6)} MB: ${Math.round(bytesPerSubscription / 100) / 10} KB per subscription`);
    return {
      peer: peer.name,
      description: PEER_DESCRIPTIONS[peer.name],
      subscriptions,
      open: connect.open,
      live: ready.withData,
      connectMs: connect.ms,
      rssBeforeBytes,
      rssAfterBytes,
      bytesPerSubscription,
    };
  } finally {
    await rig.close();
  }
}

async function runAvalanche(
  peer: RunningPeer,
  clients: number,
  missedEvents: number,
  concurrency: number,
  loadCore: number | null,
  redisPid: number | undefined,
  log: (line: string) => void,
): Promise<AvalancheResult> {
  const child = forkModule(fileURLToPath(new URL('../load/avalanche.js', import.meta.url)));
  if (loadCore !== null && child.pid) pin(child.pid, loadCore);
  const load = rpcClient<AvalancheMethods>(child);
  try {
    if (peer.wire.kind !== 'graphql-ws') throw new Error('the avalanche needs a graphql-ws peer');
    const apiKey = String(peer.wire.connectionParams.apiKey);
    const opened = await load.call('open', { url: peer.wire.url, apiKey, count: clients });
    log(`[${peer.name}] avalanche: ${opened.open} clients open in ${opened.ms} ms`);
    let seq = 1;
    for (let i = 0; i < 30 && (await load.call('withCursor', undefined as never)) < clients; i += 1) {
      await publishOne(peer.publish, seq++);
      await sleep(500);
    }
    const cpuAtDrop = { server: cpuSeconds(peer.pid), redis: redisPid === undefined ? Number.NaN : cpuSeconds(redisPid) };
    await load.call('drop', undefined as never);
    const missed: number[] = [];
    for (let i = 0; i < missedEvents; i += 1) {
      missed.push(seq);
      await publishOne(peer.publish, seq++);
    }
    const result = await load.call('resume', { seqs: missed, timeoutMs: quickTimeout(clients), concurrency });
    const perClient = (seconds: number): number => Math.round((seconds * 1e6) / Math.max(1, clients));
    const serverCpuMicrosPerClient = perClient(cpuSeconds(peer.pid) - cpuAtDrop.server);
    const redisCpuMicrosPerClient = redisPid === undefined ? undefined : perClient(cpuSeconds(redisPid) - cpuAtDrop.redis);
    log(
      `[${peer.name}] avalanche: ${result.resumed}/${result.clients} resumed (${result.resumedWithin10s} within 10 s), p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.inexact} inexact, ${result.retries} retried handshakes; server CPU ${serverCpuMicrosPerClient} µs per client, Redis ${redisCpuMicrosPerClient ?? '?'} µs`,
    );
    return { ...result, missedEvents, serverCpuMicrosPerClient, ...(redisCpuMicrosPerClient === undefined ? {} : { redisCpuMicrosPerClient }) };
  } finally {
    await load.call('close', undefined as never).catch(() => undefined);
    child.kill();
  }
}

const quickTimeout = (clients: number): number => Math.max(20_000, clients * 3);

export async function runIdle(options: IdleOptions): Promise<IdleResult> {
  const { log, quick = false } = options;
  const startedAt = new Date();
  const subscriptions = quick ? 500 : 10_000;
  const missedEvents = 5;
  const concurrency = quick ? 100 : 1_000;
  const pinned = canPin();
  const serverCore = pinned ? 0 : null;
  const loadCore = pinned ? 1 : null;
  const redisPid = await redisServerPid();
  const machine = machineInfo();
  log(`idle: ${subscriptions} subscriptions per peer, node ${machine.node}, commit ${machine.gitCommit}`);
  const peers: IdlePeerResult[] = [];
  let avalanche: AvalancheResult | undefined;
  for (const name of options.peers) {
    let peer: RunningPeer | undefined;
    try {
      peer = await startPeer(name, { platformRoot: options.platform.root });
      if (serverCore !== null) pin(peer.pid, serverCore);
      peers.push(await measureIdle(peer, subscriptions, loadCore, log));
      if (name === 'ours') {
        try {
          avalanche = await runAvalanche(peer, subscriptions, missedEvents, concurrency, loadCore, redisPid, log);
        } catch (error) {
          avalanche = { error: error instanceof Error ? error.message : String(error) } as AvalancheResult;
          log(`[${name}] avalanche failed: ${avalanche.error}`);
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`[${name}] failed: ${message}`);
      peers.push({ peer: name, description: PEER_DESCRIPTIONS[name], subscriptions, open: 0, live: 0, connectMs: 0, rssBeforeBytes: 0, rssAfterBytes: 0, bytesPerSubscription: 0, error: message });
    } finally {
      await peer?.stop();
    }
  }
  const finishedAt = new Date();
  return {
    scenario: 'idle',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine,
    platformBuild: options.platform.description,
    settings: { subscriptions, avalancheClients: subscriptions, missedEvents, concurrency },
    peers,
    ...(avalanche ? { avalanche } : {}),
  };
}
