/**
 * Scenario `sync`: patches per second on ONE document watched by 100 subscribers, and how long until every
 * subscriber's copy has a patch (convergence latency). A writer process sends `patchDocument` at a fixed rate
 * (no ifVersion: the server orders the writes, each committed to PostgreSQL, then installed in Redis and
 * published); a subscriber process holds 100 graphql-ws subscriptions to `document`, each applying the patches
 * to its own copy. Rates rise until a step fails; after each step every copy must equal the server's document.
 *
 * No peer runs here: the same workload on a naive build (state in one Redis key, no durable copy, no versions)
 * is not what users of Liveblocks, Replicache or Firestore would accept, so the comparison would mislead; the
 * fan-out scenario compares the delivery path itself with its peers.
 */
import { fileURLToPath } from 'node:url';
import { canPin, forkModule, pin } from '../support/children.js';
import { cpuMeter, machineInfo, rssBytes } from '../support/proc.js';
import { rpcClient } from '../support/rpc.js';
import { redisServerPid } from '../support/services.js';
import { startPeer, type RunningPeer } from '../peers/peers.js';
import type { PlatformBuild } from '../peers/platform-build.js';
import type { SyncResult, SyncStep } from '../report/results.js';
import type { DocumentClientMethods } from '../load/document-clients.js';
import type { DocumentWriterMethods } from '../load/document-writer.js';

export const SYNC_P99_LIMIT_MS = 50;
const COLLECTION = 'bench';
const DOCUMENT = 'doc';
/** The document: the three fields the writer replaces, and 700 bytes that never change (about 1 KB in all). */
const INITIAL_STATE = { seq: 0, sentAt: 0, pad: '', notes: 'n'.repeat(700) };
const TYPICAL_STATE = { ...INITIAL_STATE, seq: 10_000, sentAt: 1_764_277_083_123.456, pad: 'p'.repeat(200) };
const TYPICAL_PATCH = Object.entries(TYPICAL_STATE)
  .filter(([key]) => key !== 'notes')
  .map(([key, value]) => ({ op: 'replace', path: `/${key}`, value }));

async function gql<T>(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 60)}… → ${JSON.stringify(body.errors)}`);
  return body.data;
}

const round = (n: number, digits = 3): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

export async function runSync(options: { quick?: boolean; log: (line: string) => void; platform: PlatformBuild }): Promise<SyncResult> {
  const { log, quick = false } = options;
  const startedAt = new Date();
  const subscribers = quick ? 20 : 100;
  const warmupSeconds = 1;
  const measureSeconds = quick ? 2 : 5;
  const rates = quick ? [20, 50] : [50, 100, 200, 400, 800];
  const pinned = canPin();
  const machine = machineInfo();
  const redisPid = await redisServerPid();
  const steps: SyncStep[] = [];
  let error: string | undefined;
  log(`sync: ${subscribers} subscribers of one document, rates ${rates.join(', ')}/s, pinned: ${pinned}`);

  let peer: RunningPeer | undefined;
  const clientsChild = forkModule(fileURLToPath(new URL('../load/document-clients.js', import.meta.url)));
  const writerChild = forkModule(fileURLToPath(new URL('../load/document-writer.js', import.meta.url)));
  const clients = rpcClient<DocumentClientMethods>(clientsChild);
  const writer = rpcClient<DocumentWriterMethods>(writerChild);
  try {
    peer = await startPeer('ours', { platformRoot: options.platform.root });
    if (pinned) {
      pin(peer.pid, 0);
      pin(clientsChild.pid ?? -1, 1);
      pin(writerChild.pid ?? -1, 1);
    }
    if (peer.publish.kind !== 'graphql' || peer.wire.kind !== 'graphql-ws' || !peer.applicationId) throw new Error('ours did not start as expected');
    const url = peer.publish.url;
    const headers = peer.publish.headers;
    const sk = (headers.authorization ?? '').replace(/^Bearer /, '');
    const pk = String(peer.wire.connectionParams.apiKey);
    await gql(url, sk, 'mutation($app: ID!, $name: String!) { createCollection(input: { applicationId: $app, environment: DEV, name: $name, public: true }) { name } }', { app: peer.applicationId, name: COLLECTION });
    let version = (await gql<{ setDocument: { version: number } }>(url, sk, 'mutation($c: String!, $id: ID!, $s: JSON!) { setDocument(collection: $c, id: $id, state: $s) { version } }', { c: COLLECTION, id: DOCUMENT, s: INITIAL_STATE })).setDocument.version;
    const opened = await clients.call('open', { url: peer.wire.url, apiKey: pk, count: subscribers, collection: COLLECTION, id: DOCUMENT });
    log(`[ours] ${opened.open} subscribers have the snapshot after ${opened.ms} ms`);

    let seq = 1;
    for (const rate of rates) {
      const warm = rate * warmupSeconds;
      const count = warm + rate * measureSeconds;
      await clients.call('window', { from: version + warm + 1 });
      const server = cpuMeter(peer.pid);
      const redis = redisPid ? cpuMeter(redisPid) : undefined;
      const generator = cpuMeter(clientsChild.pid ?? -1);
      const writerCpu = cpuMeter(writerChild.pid ?? -1);
      const written = await writer.call('write', { url, headers, collection: COLLECTION, id: DOCUMENT, rate, count, seqStart: seq });
      seq += count;
      const finalVersion = version + written.ok;
      const settled = await clients.call('settle', { version: finalVersion, timeoutMs: 15_000 });
      const serverCpuSeconds = server.seconds();
      const serverUtilization = server.utilization();
      const truth = await gql<{ document: { version: number; state: unknown } }>(url, sk, 'query($c: String!, $id: ID!) { document(collection: $c, id: $id) { version state } }', { c: COLLECTION, id: DOCUMENT });
      const windowPatches = Math.max(0, finalVersion - (version + warm));
      const expected = windowPatches * subscribers;
      const deliveryRatio = expected === 0 ? 0 : round(settled.delivered / expected, 4);
      const identicalToServer = settled.identical && truth.document.version === finalVersion && JSON.stringify(settled.state) === JSON.stringify(truth.document.state);
      const step: SyncStep = {
        label: `${rate} patches/s`,
        rate,
        status: 'measured',
        patchesPerSec: round(written.ok / (written.wallMs / 1000), 1),
        sent: written.sent,
        acknowledged: written.ok,
        deliveryRatio,
        converged: settled.atVersion,
        identicalToServer,
        latency: settled.latency,
        convergence: settled.convergence,
        ackMs: written.ackMs,
        server: {
          cpuUtilization: round(serverUtilization),
          deliveriesPerCpuSecond: Math.round((written.ok * subscribers) / serverCpuSeconds),
          patchesPerCpuSecond: Math.round(written.ok / serverCpuSeconds),
          rssBytes: rssBytes(peer.pid),
        },
        ...(redis ? { redis: { cpuUtilization: round(redis.utilization()) } } : {}),
        generator: { cpuUtilization: round(generator.utilization()) },
        writer: { cpuUtilization: round(writerCpu.utilization()), maxLateMs: written.maxLateMs },
        violations: [...settled.violations, ...written.errorSamples],
        passes: false,
      };
      step.passes = written.ok === written.sent && deliveryRatio === 1 && identicalToServer && settled.violations.length === 0 && settled.latency.p99Ms < SYNC_P99_LIMIT_MS;
      steps.push(step);
      version = truth.document.version;
      log(
        `[ours] ${step.label}: ${step.patchesPerSec} acknowledged/s, ratio ${deliveryRatio}, p50 ${settled.latency.p50Ms} ms, p99 ${settled.latency.p99Ms} ms, ` +
          `all ${subscribers} converged p99 ${settled.convergence.p99Ms} ms, ack p99 ${written.ackMs.p99} ms, server CPU ${Math.round(serverUtilization * 100)}%, ` +
          `${settled.atVersion}/${subscribers} at the final version${identicalToServer ? ', identical to the server' : ', NOT identical to the server'}${step.passes ? '' : ' ✗'}`,
      );
      if (deliveryRatio < 0.9 || settled.latency.p99Ms > 2_000 || written.ok < written.sent) break;
    }
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure);
    log(`[ours] failed: ${error}`);
  } finally {
    await clients.call('close', undefined, 10_000).catch(() => undefined);
    clientsChild.kill();
    writerChild.kill();
    await peer?.stop();
  }
  const finishedAt = new Date();
  return {
    scenario: 'sync',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine,
    platformBuild: options.platform.description,
    settings: { subscribers, documentBytes: JSON.stringify(TYPICAL_STATE).length, patchBytes: JSON.stringify(TYPICAL_PATCH).length, warmupSeconds, measureSeconds, rates, pinned, p99LimitMs: SYNC_P99_LIMIT_MS },
    steps,
    ...(error ? { error } : {}),
  };
}
