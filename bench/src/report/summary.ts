/**
 * `bench/results/SUMMARY.md` from the raw results files present in the directory, with one SVG chart per
 * scenario beside it. Regenerated after every run, so it always covers the latest run of each scenario.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WebhooksResult } from '../scenarios/webhooks.js';
import type { PeerName } from '../peers/peers.js';
import { stepLabel } from '../load/wire.js';
import type { IdleResult } from '../scenarios/idle.js';
import { glanceSection } from './glance.js';
import { medianLatency, type CdcResult, type FanoutResult, type PeerResult, type ProfileResult, type StepResult, type SyncResult } from './results.js';
import { PEER_COLORS, barChart, compact } from './svg.js';

const mb = (bytes: number): string => (Number.isFinite(bytes) ? `${Math.round(bytes / 1e6)}` : '–');
const ms = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '–' : value >= 100 ? String(Math.round(value)) : value.toFixed(value >= 10 ? 1 : 2));
const pct = (fraction: number): string => (Number.isFinite(fraction) ? `${Math.round(fraction * 100)}%` : '–');
const times = (ratio: number): string => (Number.isFinite(ratio) ? `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(ratio >= 1.95 ? 1 : 2)}×` : '–');

const measured = (step: StepResult | undefined): step is StepResult & { status: 'measured' } => step?.status === 'measured';

/** The highest rate with `subscribers` subscribers at which the peer passed, or undefined. */
function headlineRate(peer: PeerResult, subscribers: number): number | undefined {
  const passing = peer.steps.filter((s) => measured(s) && s.subscribers === subscribers && s.passes).map((s) => s.rate);
  return passing.length > 0 ? Math.max(...passing) : undefined;
}

/** A looser bar than the headline, far less sensitive to one stall: everything delivered and p99 < 250 ms. */
const KEEPS_UP_P99_MS = 250;

function keepsUpRate(peer: PeerResult, subscribers: number): string {
  const ok = peer.steps
    .filter((s) => measured(s) && s.subscribers === subscribers && s.deliveryRatio === 1 && s.publishFailures === 0 && s.latency.p99Ms < KEEPS_UP_P99_MS)
    .map((s) => s.rate);
  if (peer.steps.filter((s) => measured(s) && s.subscribers === subscribers).length === 0) return 'not run';
  return ok.length > 0 ? `${Math.max(...ok)}/s` : 'none';
}

/** What the subscriber process itself costs per frame, from the first ws-ceiling step (the lightest server). */
function generatorNote(result: FanoutResult): string {
  const step = result.peers.find((p) => p.peer === 'ws-ceiling')?.steps.find((s) => measured(s) && s.subscribers === 1000);
  if (!measured(step) || step.deliveriesPerSec === 0) return '';
  const microsPerFrame = (step.generator.cpuUtilization / step.deliveriesPerSec) * 1e6;
  return (
    ` The subscriber process spends about ${Math.round(microsPerFrame)} µs of CPU per frame (measured at ws-ceiling ${step.label}), so it reads the` +
    ` 1000th subscriber's copy of an event roughly ${Math.round((microsPerFrame * 1000) / 1000)} ms after the first: that much of every p99 at 1000 subscribers is the measuring side, the same for every peer.`
  );
}

/** The labels of a run's steps, as the steps carry them. */
const planLabels = (result: FanoutResult): string[] => result.settings.plan.map((p) => stepLabel({ ...p, groups: Boolean(result.settings.groups) }));

function stepOf(peer: PeerResult | undefined, label: string): StepResult | undefined {
  return peer?.steps.find((s) => s.label === label);
}

function headlineCell(peer: PeerResult, subscribers: number, rates: number[]): string {
  const rate = headlineRate(peer, subscribers);
  const tried = peer.steps.filter((s) => measured(s) && s.subscribers === subscribers);
  if (tried.length === 0) return 'not run';
  if (rate === undefined) {
    const first = tried.sort((a, b) => a.rate - b.rate)[0];
    return `none (fails at ${first?.rate ?? '?'}/s${first?.note?.includes('disturbed') ? ', disturbed' : ''})`;
  }
  const top = Math.max(...rates);
  if (rate >= top) return `≥ ${rate}/s (highest tried)`;
  const next = tried.filter((s) => s.rate > rate).sort((a, b) => a.rate - b.rate)[0];
  return next?.note?.includes('disturbed') ? `${rate}/s (${next.rate}/s failed while disturbed)` : `${rate}/s`;
}

/**
 * (RSS with many subscribers − the least RSS seen with 1000) ÷ the extra subscribers, in KB. The least, because
 * an overloaded step leaves a backlog in memory that has nothing to do with the number of subscribers.
 */
function rssPerSubscriber(peer: PeerResult, many: number | undefined): string {
  const big = peer.steps.find((s) => measured(s) && s.subscribers === many);
  const small = peer.steps.filter((s) => measured(s) && s.subscribers === 1000).map((s) => s.server.rssBytes);
  if (!measured(big) || small.length === 0 || many === undefined) return '–';
  return `${Math.round((big.server.rssBytes - Math.min(...small)) / (many - 1000) / 1000)} kB`;
}

function failureReason(step: StepResult): string {
  if (step.status !== 'measured') return step.note ?? step.status;
  const reasons: string[] = [];
  if (step.deliveryRatio < 1) reasons.push(`delivered ${(step.deliveryRatio * 100).toFixed(step.deliveryRatio > 0.99 ? 2 : 1)}%`);
  if (step.latency.p99Ms >= 50) reasons.push(`p99 ${ms(step.latency.p99Ms)} ms`);
  if (step.publishFailures > 0) reasons.push(`${step.publishFailures} publishes failed`);
  if (step.openAtEnd < step.subscribersAtStart) reasons.push(`${step.subscribersAtStart - step.openAtEnd} subscriptions ended`);
  return reasons.join(', ');
}

function fanoutCharts(result: FanoutResult, dir: string): void {
  const labels = result.settings.plan.map((p) => stepLabel(p));
  const groups = result.settings.plan.map((p) => stepLabel(p).replace(/^(\d+)000 subs/, '$1k').replace(' subs', ''));
  const series = (pick: (s: StepResult) => number): { name: string; color: string; values: (number | null)[] }[] =>
    result.peers.map((peer) => ({
      name: peer.peer,
      color: PEER_COLORS[peer.peer] ?? '#555',
      values: labels.map((label) => {
        const step = stepOf(peer, label);
        return measured(step) ? pick(step) : null;
      }),
    }));
  writeFileSync(
    join(dir, 'fanout.svg'),
    barChart({
      title: 'Fan-out efficiency: deliveries per server CPU-second (higher is better)',
      yLabel: 'deliveries / server CPU-second',
      groups,
      series: series((s) => s.server.deliveriesPerCpuSecond),
    }),
  );
  writeFileSync(
    join(dir, 'fanout-latency.svg'),
    barChart({
      title: 'Fan-out latency: p99 publish → delivery, ms (log scale, lower is better)',
      yLabel: 'p99 latency (ms)',
      groups,
      series: series((s) => s.latency.p99Ms),
      log: true,
      threshold: { value: result.settings.p99LimitMs, label: `${result.settings.p99LimitMs} ms` },
    }),
  );
}

function compareSection(result: FanoutResult): string[] {
  const ours = result.peers.find((p) => p.peer === 'ours');
  const others = result.peers.filter((p) => p.peer !== 'ours');
  if (!ours || others.length === 0) return [];
  const lines: string[] = ['### Where ours stands (ratios in the same run)', ''];
  const labels = planLabels(result);
  const oursRate = headlineRate(ours, 1000);

  for (const peer of others) {
    const bullets: string[] = [];
    const peerRate = headlineRate(peer, 1000);
    const rateText = (r: number | undefined): string => (r === undefined ? 'no rate' : `${r}/s`);
    if (oursRate !== peerRate) {
      const behind = (oursRate ?? 0) < (peerRate ?? 0);
      bullets.push(`headline (1000 subs, p99 < ${result.settings.p99LimitMs} ms, all delivered): ours ${rateText(oursRate)} vs ${peer.peer} ${rateText(peerRate)} — ours is **${behind ? 'behind' : 'ahead'}**`);
    } else {
      bullets.push(`headline (1000 subs): both ${rateText(oursRate)}`);
    }
    for (const label of labels) {
      const a = stepOf(ours, label);
      const b = stepOf(peer, label);
      if (!measured(a) || !measured(b)) continue;
      const efficiency = a.server.deliveriesPerCpuSecond / b.server.deliveriesPerCpuSecond;
      const cpuText =
        efficiency < 1
          ? `ours needs **${times(1 / efficiency)} the server CPU per delivery** (${compact(a.server.deliveriesPerCpuSecond)} vs ${compact(b.server.deliveriesPerCpuSecond)} deliveries/CPU-s)`
          : `ours is ahead: ${peer.peer} needs ${times(efficiency)} the server CPU per delivery (${compact(a.server.deliveriesPerCpuSecond)} vs ${compact(b.server.deliveriesPerCpuSecond)} deliveries/CPU-s)`;
      const p99 = a.latency.p99Ms / b.latency.p99Ms;
      const latencyText = `p99 ${ms(a.latency.p99Ms)} vs ${ms(b.latency.p99Ms)} ms (${times(p99)})`;
      const delivery = a.deliveryRatio < b.deliveryRatio ? `, delivered ${(a.deliveryRatio * 100).toFixed(1)}% vs ${(b.deliveryRatio * 100).toFixed(1)}%` : '';
      const rss = `RSS ${mb(a.server.rssBytes)} vs ${mb(b.server.rssBytes)} MB`;
      bullets.push(`${label}: ${cpuText}; ${latencyText}${delivery}; ${rss}`);
    }
    lines.push(`**vs ${peer.peer}**`, '', ...bullets.map((b) => `- ${b}`), '');
  }

  // One table of ratios, ours ÷ peer, for reading at a glance.
  lines.push('Ours ÷ peer (deliveries per server CPU-second: below 1 means ours is less efficient; p99: above 1 means ours is slower):', '');
  lines.push(`| Step | ${others.map((p) => `efficiency vs ${p.peer}`).join(' | ')} | ${others.map((p) => `p99 vs ${p.peer}`).join(' | ')} |`);
  lines.push(`|---|${others.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`);
  for (const label of labels) {
    const a = stepOf(ours, label);
    if (!measured(a)) continue;
    const eff = others.map((p) => {
      const b = stepOf(p, label);
      return measured(b) ? times(a.server.deliveriesPerCpuSecond / b.server.deliveriesPerCpuSecond) : '–';
    });
    const lat = others.map((p) => {
      const b = stepOf(p, label);
      return measured(b) ? times(a.latency.p99Ms / b.latency.p99Ms) : '–';
    });
    lines.push(`| ${label} | ${eff.join(' | ')} | ${lat.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function fanoutSection(result: FanoutResult): string[] {
  const { settings, machine } = result;
  const rates1000 = settings.plan.filter((p) => p.subscribers === 1000).map((p) => p.rate);
  const bigSteps = settings.plan.filter((p) => p.subscribers !== 1000);
  // Efficiency at the first step that loads the server at all (1/s mostly measures idle timers).
  const efficiencyPlan = settings.plan.find((p) => p.subscribers * p.rate >= 1000) ?? settings.plan[0];
  const efficiencyLabel = efficiencyPlan ? stepLabel(efficiencyPlan) : '';
  const firstLabel = efficiencyLabel.replace(' subs', '');
  const lines: string[] = [
    '## fanout',
    '',
    `Run ${result.startedAt} (${result.durationSeconds} s). Node ${machine.node}, ${machine.cpuModel} × ${machine.cores} cores, kernel ${machine.kernel}, ` +
      `repository HEAD \`${machine.gitCommit}\`, load average at start ${machine.loadAverage.join(' / ')}. **Ours is** ${result.platformBuild}.`,
    '',
    `One topic, ${settings.payloadBytes}-byte event data (a few bytes less while seq has fewer digits), fixed-rate publishing over keep-alive HTTP; each step publishes for ${settings.warmupSeconds} s of warm-up, then measures ${settings.measureSeconds} s. ${settings.warmupPublishes ? `Before its first subscriber connects, every server handles ${settings.warmupPublishes.toLocaleString('en-US')} publishes (2,000/s, nothing measured), so that its JIT has compiled the publish path as in a server that has run for a while. ` : ''}` +
      (settings.pinned
        ? `The server runs alone on core ${settings.serverCore}; the subscriber process and the publisher process share core ${settings.loadCore}; Redis is not pinned (and is shared with anything else on the machine).`
        : 'taskset was not available: nothing is pinned.') +
      ' Latency is publisher `sentAt` (stamped just before the HTTP request) → subscriber frame handled, so it includes the publish request' +
      ' and the time one subscriber process takes to read the frames of the subscribers served before it.' +
      (bigSteps.length > 0 ? ` The ${bigSteps.map((p) => `${p.subscribers} × ${p.rate}/s`).join(', ')} step carries as many deliveries per second as 1000 × ${(bigSteps[0]?.subscribers ?? 0) * (bigSteps[0]?.rate ?? 0) / 1000}/s over more sockets.` : '') +
      generatorNote(result) +
      ` The machine is shared: each window records how much CPU other processes used. A step that was disturbed (others above 0.2 cores) or failed on p99 alone by a small margin (p99 < ${KEEPS_UP_P99_MS} ms, everything delivered) is run a second time, within a time budget and for every peer alike, and the attempt with the lower p99 is reported (the other one is in the JSON). A step measured in rounds (the goals' step, 1000 × 50/s: the peers alternate in each round) is not repeated: it reports the round with the median p99, and the goals take the median of the per-round ratios; a peer overloaded there is measured once.` +
      ` A step **passes** when every event reached every subscriber, p99 < ${settings.p99LimitMs} ms, no publish failed and no subscription ended.`,
    '',
    'Peers:',
    '',
    ...result.peers.map((p) => `- \`${p.peer}\`: ${p.description}`),
    '',
    '### Headline',
    '',
    `| Peer | Highest rate, 1000 subs, passing | Highest rate, 1000 subs, all delivered, p99 < ${KEEPS_UP_P99_MS} ms | ${bigSteps.map((p) => stepLabel(p)).join(' | ')} | Deliveries / server CPU-s at ${firstLabel} | Idle RSS MB | RSS per extra subscriber${bigSteps[0] ? ` (1000 → ${bigSteps[0].subscribers})` : ''} | Startup |`,
    `|---|---|---|${bigSteps.map(() => '---').join('|')}|---:|---:|---:|---:|`,
  ];
  for (const peer of result.peers) {
    const big = bigSteps.map((p) => {
      const step = stepOf(peer, stepLabel(p));
      if (!step) return 'not run';
      if (!measured(step)) return step.note ?? step.status;
      return step.passes ? `passes (p99 ${ms(step.latency.p99Ms)} ms)` : `fails: ${failureReason(step)}`;
    });
    const first = stepOf(peer, efficiencyLabel);
    lines.push(
      `| ${peer.peer}${peer.crashed ? ' (crashed)' : ''} | ${headlineCell(peer, 1000, rates1000)} | ${keepsUpRate(peer, 1000)} | ${big.join(' | ')} | ${measured(first) ? compact(first.server.deliveriesPerCpuSecond) : '–'} | ${mb(peer.idleRssBytes ?? Number.NaN)} | ${rssPerSubscriber(peer, bigSteps[0]?.subscribers)} | ${(peer.startupMs / 1000).toFixed(1)} s |`,
    );
  }
  lines.push(
    '',
    'How to read it: deliveries per server CPU-second is the steadiest comparison (CPU spent is CPU spent, whatever else runs); the p99 < 50 ms headline is the most fragile (one stall of the VM, of Redis or of the subscriber process moves it), which is why borderline steps get a second attempt.',
    '',
    ...compareSection(result),
  );
  lines.push('### Every step', '');
  lines.push(
    '| Step | Peer | Offered ev/s | Delivered ev/s | Delivery ratio | p50 ms | p99 ms | p99.9 ms | max ms | Server CPU | Deliveries / server CPU-s | Server RSS MB | Heap MB | Server loop delay p99 / max ms | Generator CPU | Generator loop p99 ms | Redis CPU | Publish HTTP p99 ms | Server waited for its core | Others\' CPU (cores) | Pass |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const plan of settings.plan) {
    const label = stepLabel(plan);
    for (const peer of result.peers) {
      const s = stepOf(peer, label);
      if (!s) continue;
      if (!measured(s)) {
        lines.push(`| ${label} | ${peer.peer} | ${s.note ?? s.status} |||||||||||||||||||`);
        continue;
      }
      lines.push(
        `| ${label} | ${peer.peer} | ${s.offeredEventsPerSec} | ${s.deliveredEventsPerSec} | ${s.deliveryRatio} | ${ms(s.latency.p50Ms)} | ${ms(s.latency.p99Ms)} | ${ms(s.latency.p999Ms)} | ${ms(s.latency.maxMs)} | ` +
          `${pct(s.server.cpuUtilization)} | ${compact(s.server.deliveriesPerCpuSecond)} | ${mb(s.server.rssBytes)} | ${mb(s.server.heapUsedBytes)} | ${ms(s.server.eventLoopDelayP99Ms)} / ${ms(s.server.eventLoopDelayMaxMs)} | ` +
          `${pct(s.generator.cpuUtilization)} | ${ms(s.generator.eventLoopDelayP99Ms)} | ${s.redis ? pct(s.redis.cpuUtilization) : '–'} | ${ms(s.publishHttpMs.p99)} | ${pct(s.server.runQueueWaitShare)} | ${s.foreignCpuCores} | ${s.passes ? 'yes' : `no: ${failureReason(s)}`}${s.attempts > 1 ? ' (2nd attempt)' : ''}${s.note?.includes('disturbed') ? ' ⚠ disturbed' : ''} |`,
      );
    }
  }
  lines.push('', '![](fanout.svg)', '', '![](fanout-latency.svg)', '');

  const notes: string[] = [];
  for (const peer of result.peers) {
    if (peer.crashed) notes.push(`\`${peer.peer}\` crashed: ${peer.error ?? ''}`);
    else if (peer.error) notes.push(`\`${peer.peer}\`: ${peer.error}`);
    for (const s of peer.steps.filter(measured)) {
      if (s.note) notes.push(`\`${peer.peer}\` ${s.label}: ${s.note}`);
      if (s.otherAttempt) {
        notes.push(
          `\`${peer.peer}\` ${s.label}: ran twice; the attempt not shown had p99 ${ms(s.otherAttempt.p99Ms)} ms, ${compact(s.otherAttempt.deliveriesPerCpuSecond)} deliveries/CPU-s, others ${s.otherAttempt.foreignCpuCores} cores`,
        );
      }
      if (s.rounds && s.rounds.length > 1) {
        notes.push(
          `\`${peer.peer}\` ${s.label}: ${s.rounds.length} rounds, shown: the one with the median p99; each round's p99 and deliveries/CPU-s: ${s.rounds.map((r) => `${ms(r.p99Ms)} ms, ${compact(r.deliveriesPerCpuSecond)}`).join('; ')}`,
        );
      }
      if (s.publishFailures > 0) notes.push(`\`${peer.peer}\` ${s.label}: ${s.publishFailures} publishes failed, e.g. ${s.publishErrorSamples[0] ?? '?'}`);
      if (s.clientErrors > 0) notes.push(`\`${peer.peer}\` ${s.label}: ${s.clientErrors} client-side errors, e.g. \`${(s.clientErrorSamples[0] ?? '').slice(0, 160)}\``);
      if (s.duplicates > 0 || s.malformed > 0) notes.push(`\`${peer.peer}\` ${s.label}: ${s.duplicates} duplicate and ${s.malformed} malformed deliveries`);
      if (s.reordered > 0) {
        notes.push(`\`${peer.peer}\` ${s.label}: ${s.reordered} deliveries arrived after an event published later: publish requests overlapped (p99 ${ms(s.publishHttpMs.p99)} ms against ${Math.round(1000 / s.rate)} ms between publishes), so the server took them in another order than they were sent`);
      }
      if (s.stale > 0) notes.push(`\`${peer.peer}\` ${s.label}: ${s.stale} deliveries of the previous step's events arrived during this step`);
      if (s.generator.cpuUtilization > 0.85) notes.push(`\`${peer.peer}\` ${s.label}: the load core was nearly saturated (generator ${pct(s.generator.cpuUtilization)}): latencies include client-side queueing`);
    }
  }
  if (notes.length > 0) lines.push('Notes from the run:', '', ...notes.map((n) => `- ${n}`), '');
  lines.push(
    'Columns: *Server CPU* is the fraction of one core the server used during the measured window; *Deliveries / server CPU-s* is the deliveries of the events published in the measured window over the server\'s CPU time during that window (warm-up, drain and the stats calls around a step are left out: as fixed costs they would weigh more in a short step and pull every peer toward the same figure). ' +
      'RSS is read from /proc at the end of the window; heap and loop delay come from the server itself (`/stats` for the bench\'s own servers, `/metrics` for ours; both use `monitorEventLoopDelay` sampling every 10 ms, reset at the window start; shown is the delay beyond those 10 ms). ' +
      '*Server waited for its core* is the share of the window its event-loop thread was runnable but not running (/proc schedstat); *Others\' CPU* is the machine\'s busy time minus the server, subscriber, publisher, Redis and bench processes.',
    '',
  );
  return lines;
}

/** Two instances against one: the latency the Redis hop between processes adds, step by step. */
function twoInstancesSection(result: FanoutResult, dir: string): string[] {
  const one = result.peers.find((p) => p.peer === 'ours');
  const two = result.peers.find((p) => p.peer === 'ours-2x');
  const labels = result.settings.plan.map((plan) => stepLabel(plan));
  const roundsOf = Math.max(0, ...(one?.steps ?? []).map((s) => s.rounds?.length ?? 0)) || undefined;
  const pick = (peer: PeerResult | undefined, value: (s: StepResult) => number): (number | null)[] =>
    labels.map((label) => {
      const step = stepOf(peer, label);
      return measured(step) ? value(step) : null;
    });
  writeFileSync(
    join(dir, 'two-instances.svg'),
    barChart({
      title: 'One instance vs two (publish on A, subscribers on B): latency, ms (lower is better)',
      yLabel: 'latency (ms)',
      groups: labels.flatMap((label) => [`${label} p50`, `${label} p99`]),
      series: [one, two].map((peer) => ({
        name: peer?.peer ?? '?',
        color: PEER_COLORS[peer?.peer ?? ''] ?? '#555',
        values: pick(peer, (s) => medianLatency(s, 'p50Ms')).flatMap((p50, i) => [p50, pick(peer, (s) => medianLatency(s, 'p99Ms'))[i] ?? null]),
      })),
    }),
  );
  const lines = [
    '## two-instances: publish on one instance, subscribers on another',
    '',
    `Run ${result.startedAt}, ${result.durationSeconds} s. Both configurations measured back to back in the same run; \`ours-2x\` is two processes on one database and Redis (publish on A, every subscriber on B; B's CPU is the one counted; B has the server core to itself as the single instance has, and A runs on the load core with the publisher and subscriber processes, so A's work delays the publishes rather than B's fan-out; with A and B taking turns on the server core, as until 2026-11-28, two instances measured +1.3 ms p50 and +12 ms p99 at 10/s, A's work added to B's latency, which a deployment on two machines does not have). Goal: two instances add ≤ 1 ms at p50 and ≤ 5 ms at p99.`,
    '',
    '![one instance vs two](two-instances.svg)',
    '',
    ...(roundsOf
      ? [
          `Each step was measured in up to ${roundsOf} rounds (fewer where the scenario fell behind its share of the suite's time), the two configurations alternating which goes first; a tail as short as one step's p99 moves by more than the 5 ms goal between rounds, so p50 and p99 are the medians over the rounds (every round's p99 is shown), and added = median of two − median of one.`,
          '',
        ]
      : []),
    `| Step | p50 one / two (ms) | Added p50 | p99 one / two (ms) | Added p99 |${roundsOf ? ' p99 each round, one / two (ms) |' : ''} Delivered (one / two) | Deliveries / CPU-s (one / two) |`,
    `|---|---:|---:|---:|---:|${roundsOf ? '---|' : ''}---:|---:|`,
  ];
  for (const plan of result.settings.plan) {
    const label = stepLabel(plan);
    const a = stepOf(one, label);
    const b = stepOf(two, label);
    if (!measured(a) || !measured(b)) {
      lines.push(`| ${label} | ${measured(a) ? ms(a.latency.p50Ms) : a?.status ?? '–'} / ${measured(b) ? ms(b.latency.p50Ms) : b?.status ?? '–'} | – | – | – | – | – |`);
      continue;
    }
    const [p50a, p50b, p99a, p99b] = [medianLatency(a, 'p50Ms'), medianLatency(b, 'p50Ms'), medianLatency(a, 'p99Ms'), medianLatency(b, 'p99Ms')];
    const eachRound = (step: StepResult): string => (step.rounds?.map((r) => r.p99Ms) ?? [step.latency.p99Ms]).map((value) => ms(value)).join(', ');
    lines.push(
      `| ${label} | ${ms(p50a)} / ${ms(p50b)} | ${ms(p50b - p50a)} | ${ms(p99a)} / ${ms(p99b)} | ${ms(p99b - p99a)} |${roundsOf ? ` ${eachRound(a)} / ${eachRound(b)} |` : ''} ${pct(a.deliveryRatio)} / ${pct(b.deliveryRatio)} | ${compact(a.server.deliveriesPerCpuSecond)} / ${compact(b.server.deliveriesPerCpuSecond)} |`,
    );
  }
  for (const peer of [one, two]) if (peer?.error) lines.push('', `\`${peer.peer}\`: ${peer.error}`);
  lines.push('');
  return lines;
}

/** An SVG of each peer's deliveries per server CPU-second at each step (`groupLabel` shortens a step's label). */
function efficiencyChart(result: FanoutResult, labels: readonly string[], title: string, groupLabel: (label: string) => string): string {
  return barChart({
    title: `${title}: deliveries per server CPU-second (higher is better)`,
    yLabel: 'deliveries / server CPU-second',
    groups: labels.map(groupLabel),
    series: result.peers.map((peer) => ({
      name: peer.peer,
      color: PEER_COLORS[peer.peer] ?? '#555',
      values: labels.map((label) => {
        const step = stepOf(peer, label);
        return measured(step) ? step.server.deliveriesPerCpuSecond : null;
      }),
    })),
  });
}

/** Fan-out over 10 topics: each peer's efficiency and latency, and ours against each other peer. */
function topicsSection(result: FanoutResult, dir: string): string[] {
  const labels = result.settings.plan.map((plan) => stepLabel(plan));
  writeFileSync(join(dir, 'topics.svg'), efficiencyChart(result, labels, 'Fan-out over 10 topics', (l) => l.replace(' over 10 topics', '')));
  const ours = result.peers.find((p) => p.peer === 'ours');
  // Where ours needs more server CPU per delivery than a peer, said plainly (the table has every ratio).
  const behind: string[] = [];
  for (const label of labels) {
    const oursStep = stepOf(ours, label);
    if (!measured(oursStep)) continue;
    const peers: string[] = [];
    for (const peer of result.peers) {
      const step = stepOf(peer, label);
      if (peer.peer === 'ours' || !measured(step) || step.server.deliveriesPerCpuSecond <= oursStep.server.deliveriesPerCpuSecond) continue;
      peers.push(`${times(step.server.deliveriesPerCpuSecond / oursStep.server.deliveriesPerCpuSecond)} that of ${peer.peer}`);
    }
    if (peers.length > 0) behind.push(`at ${label.replace(' over 10 topics', '')}, ${peers.join(', ')}`);
  }
  const lines = [
    '## topics: fan-out over 10 topics',
    '',
    `Run ${result.startedAt}, ${result.durationSeconds} s. Subscriber i listens on topic i mod 10 (ours: typed fields \`benchTick\`, \`benchTick1\` … \`benchTick9\`; the others: a room, channel or subscription argument per topic); events are published round-robin over the topics at the total rate shown, so each reaches a tenth of the sockets. Same windows, pinning and pass rule as \`fanout\`.`,
    '',
    behind.length > 0
      ? `**Where ours is behind**, in server CPU per delivery: ${behind.join('; ')}. Each event reaches 100 sockets here, not 1,000, so what a peer spends once per event weighs ten times as much per delivery as in \`fanout\`; [LEVERS.md](LEVERS.md) has a profile of this load.`
      : '**Ours is behind no peer** here in server CPU per delivery.',
    '',
    '![fan-out over 10 topics](topics.svg)',
    '',
    '| Step | Peer | Delivered | p50 ms | p99 ms | Deliveries / server CPU-s | Ours ÷ peer (CPU-s) | Passes |',
    '|---|---|---:|---:|---:|---:|---:|:---:|',
  ];
  for (const plan of result.settings.plan) {
    const label = stepLabel(plan);
    const oursStep = stepOf(ours, label);
    for (const peer of result.peers) {
      const step = stepOf(peer, label);
      if (!measured(step)) {
        lines.push(`| ${label} | ${peer.peer} | ${step?.status ?? 'not run'} | | | | | |`);
        continue;
      }
      const ratio = measured(oursStep) && peer.peer !== 'ours' ? times(oursStep.server.deliveriesPerCpuSecond / step.server.deliveriesPerCpuSecond) : '';
      lines.push(
        `| ${label} | ${peer.peer} | ${pct(step.deliveryRatio)} | ${ms(step.latency.p50Ms)} | ${ms(step.latency.p99Ms)} | ${compact(step.server.deliveriesPerCpuSecond)} | ${ratio} | ${step.passes ? '✓' : '✗'} |`,
      );
    }
  }
  for (const peer of result.peers) if (peer.error) lines.push('', `\`${peer.peer}\`: ${peer.error}`);
  lines.push('');
  return lines;
}

/** Personal + group streams with clients dropping and reconnecting: what each peer delivered, at what cost. */
function groupsSection(result: FanoutResult, dir: string): string[] {
  const { settings } = result;
  const groups = settings.groups;
  const labels = planLabels(result);
  const clients = settings.plan[0]?.subscribers ?? 0;
  writeFileSync(
    join(dir, 'groups.svg'),
    efficiencyChart(result, labels, 'Personal + group streams, 2 % of clients reconnecting a second', (l) => l.replace(/^(\d+)000 clients/, '$1k clients')),
  );
  const lines = [
    '## groups: personal + group streams, clients reconnecting',
    '',
    `Run ${result.startedAt}, ${result.durationSeconds} s. ${clients} clients, each with two subscriptions on one socket: its personal stream and its group's (groups of ${groups?.groupSize ?? '?'}). ` +
      'Half the events by count are personal (one delivery), half go to a group (one delivery per member); the rate is the total. ' +
      `Each second ${pct(groups?.churnShare ?? Number.NaN)} of the clients are dropped abruptly (no close frame) and reconnect ${groups?.offlineMs ?? '?'} ms later. ` +
      `Each step publishes for ${settings.warmupSeconds} s of warm-up, then measures ${settings.measureSeconds} s; same pinning and pass rule as \`fanout\`.`,
    '',
    '**How each peer models it.** Ours: two topics (types), `bench.personal` and `bench.group`, and each subscription filters on the subject: `benchPersonal(where: { subject: { eq: "u17" } }, after: $cursor)`. ' +
      'A root `subject: { eq }` is routed by an index of subjects, as the peers route by channel: a room (socketio), a Redis channel (ws-ceiling) or a subscription argument (naive-yoga) per user and per group. ' +
      'Two costs are ours alone: every publish (`POST /v1/publish`) checks the key and the schema and writes history (about 0.5–1 ms of server CPU against 0.2–0.7 ms for the ceiling\'s plain POST handler, measured separately), shared here by only 5.5 deliveries on average; and a resume reads the topic\'s history after the cursor and filters it, so a personal stream whose last event is 10 s old rereads 10 s of the whole topic. ' +
      'A reconnecting client of ours resumes each subscription with the cursor of the last event it got, so it is owed every event; the peers have no resume, so a reconnecting client just resubscribes and loses what was published while it was away.',
    '',
    '*Delivered* is against what the client was owed: every event for ours; for the peers, the events published while it was subscribed (by the client\'s clock, leaving out 50 ms either side of each absence: events in flight when the socket died, and the moment after it resubscribed, since neither graphql-ws nor a Socket.IO join tells the client when the server has taken a subscription). *Got of all published* is against every event published to it, away or not: ' +
      'what the peers lose to reconnects shows there. Latency counts live deliveries only: not *Replayed*, the deliveries of events published before the connection that got them was subscribed (ours: resume replays; an overloaded peer: publishes it handled after the client was back). *Reconnect* is from the end of the offline pause to the subscriptions being sent again.',
    '',
    `![groups efficiency](groups.svg)`,
    '',
    '| Step | Peer | Delivered (owed) | Got of all published | p50 ms | p99 ms | Deliveries / server CPU-s | RSS MB | Reconnects (failed) | Reconnect p50 / p99 ms | Replayed | Passes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
  ];
  for (const label of labels) {
    for (const peer of result.peers) {
      const step = stepOf(peer, label);
      if (!measured(step)) {
        lines.push(`| ${label} | ${peer.peer} | ${step?.note ?? step?.status ?? 'not run'} | | | | | | | | | |`);
        continue;
      }
      const churn = step.churn;
      lines.push(
        `| ${label} | ${peer.peer} | ${pct(step.deliveryRatio)} | ${churn ? `${(churn.completeness * 100).toFixed(2)}%` : '–'} | ${ms(step.latency.p50Ms)} | ${ms(step.latency.p99Ms)} | ${compact(step.server.deliveriesPerCpuSecond)} | ${mb(step.server.rssBytes)} | ` +
          `${churn ? `${churn.reconnects} (${churn.failed})` : '–'} | ${churn ? `${ms(churn.p50Ms)} / ${ms(churn.p99Ms)}` : '–'} | ${churn?.replayed ?? '–'} | ${step.passes ? '✓' : '✗'} |`,
      );
    }
  }
  for (const peer of result.peers) if (peer.error) lines.push('', `\`${peer.peer}\`: ${peer.error}`);
  // Plainly: what the peers lost that ours did not, and what ours paid for it.
  const ours = result.peers.find((p) => p.peer === 'ours');
  const statements: string[] = [];
  for (const label of labels) {
    const a = stepOf(ours, label);
    if (!measured(a) || !a.churn) continue;
    const lost = result.peers
      .filter((p) => p.peer !== 'ours')
      .map((p) => ({ peer: p.peer, step: stepOf(p, label) }))
      .filter((x): x is { peer: PeerName; step: StepResult & { status: 'measured' } } => measured(x.step) && x.step.churn !== undefined);
    if (lost.length === 0) continue;
    const lossText = lost.map((x) => `${x.peer} ${((1 - (x.step.churn?.completeness ?? 1)) * 100).toFixed(2)}%`).join(', ');
    const costText = lost
      .map((x) => {
        const ratio = a.server.deliveriesPerCpuSecond / x.step.server.deliveriesPerCpuSecond;
        return ratio < 1 ? `**behind ${x.peer} by ${times(1 / ratio)}**` : `ahead of ${x.peer} by ${times(ratio)}`;
      })
      .join(', ');
    const p99Text = lost.map((x) => `${x.peer} ${ms(x.step.latency.p99Ms)}`).join(', ');
    statements.push(
      `${label}: ours got ${(a.churn.completeness * 100).toFixed(2)}% of everything published to its clients (${a.churn.replayed} deliveries came from resume replays); the peers lost ${lossText} (published while their clients were away). ` +
        `Per server CPU-second ours is ${costText}; p99 ours ${ms(a.latency.p99Ms)} ms vs ${p99Text} ms.`,
    );
  }
  if (statements.length > 0) lines.push('', '### Where ours is behind or ahead', '', ...statements.map((t) => `- ${t}`));
  lines.push('');
  return lines;
}

/** Memory per idle subscription for every peer, and ours' reconnect avalanche. */
function idleSection(result: IdleResult, dir: string): string[] {
  writeFileSync(
    join(dir, 'idle.svg'),
    barChart({
      title: `Memory per open idle subscription, KB (${result.settings.subscriptions.toLocaleString('en')} open; lower is better)`,
      yLabel: 'KB of server RSS per subscription',
      groups: ['idle subscription'],
      series: result.peers.map((p) => ({ name: p.peer, color: PEER_COLORS[p.peer] ?? '#555', values: [p.error ? null : p.bytesPerSubscription / 1000] })),
      threshold: { value: 30, label: 'goal 30 KB' },
    }),
  );
  const lines = [
    '## idle: open subscriptions and a reconnect avalanche',
    '',
    `Run ${result.startedAt}, ${result.durationSeconds} s. Each peer gets ${result.settings.subscriptions.toLocaleString('en')} subscriptions (one per WebSocket), each proven live by a probe event; memory is the server's RSS growth over them. Goal: ≤ 30 KB per idle subscription.`,
    '',
    '![memory per idle subscription](idle.svg)',
    '',
    '| Peer | Open / live | Connect time | RSS before → after (MB) | KB per subscription |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const p of result.peers) {
    lines.push(
      p.error
        ? `| ${p.peer} | failed: ${p.error.slice(0, 120)} | | | |`
        : `| ${p.peer} | ${p.open} / ${p.live} | ${(p.connectMs / 1000).toFixed(1)} s | ${mb(p.rssBeforeBytes)} → ${mb(p.rssAfterBytes)} | ${(p.bytesPerSubscription / 1000).toFixed(1)} |`,
    );
  }
  const a = result.avalanche;
  lines.push('', '### Reconnect avalanche (ours; the peers have no resume)', '');
  if (!a) lines.push('Not run.');
  else if (a.error) lines.push(`Failed: ${a.error}`);
  else {
    lines.push(
      `Every one of ${a.clients.toLocaleString('en')} clients dropped at once; ${a.missedEvents} events published while they were away; then all reconnect at once (at most ${result.settings.concurrency} handshakes in flight from the generator, failed handshakes retried after 100–500 ms) and resume with the cursor of the last event they got. Resumed = holds exactly the missed events, in order, once. Goal: all within 10 s.`,
      '',
      '| Resumed | Within 10 s | All resumed after | Resume p50 | Resume p99 | Inexact | Retried handshakes | Server CPU per client | Redis CPU per client |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${a.resumed} / ${a.clients} | ${a.resumedWithin10s} | ${a.allResumedMs === null ? 'not all' : `${(a.allResumedMs / 1000).toFixed(1)} s`} | ${ms(a.p50Ms)} ms | ${ms(a.p99Ms)} ms | ${a.inexact} | ${a.retries} | ${micros(a.serverCpuMicrosPerClient)} | ${micros(a.redisCpuMicrosPerClient)} |`,
    );
    if (a.serverCpuMicrosPerClient !== undefined) {
      lines.push(
        '',
        'CPU per client is counted from the drop until the resume phase ends, over every client: the handshake, authentication, the subscription, the history read and the missed events. It is the steadier figure on a shared machine; the times above move with whatever else the machine runs.',
      );
    }
    if (a.errors > 0) lines.push('', `${a.errors} client errors, e.g. \`${(a.errorSamples[0] ?? '').slice(0, 160)}\``);
  }
  lines.push('');
  return lines;
}

const micros = (value: number | undefined): string => (value === undefined ? '–' : `${value.toLocaleString('en')} µs`);

function profileSection(result: ProfileResult): string[] {
  const lines = ['## profile: where the server CPU goes', '', `Run ${result.startedAt}. ${result.note}`, ''];
  for (const peer of result.peers) {
    lines.push(`### ${peer.peer}`, '');
    if (peer.error) {
      lines.push(`Failed: ${peer.error}`, '');
      continue;
    }
    lines.push(`${peer.step}. Busy ${peer.busyMs} ms in total, ${peer.busyMsPerThousandDeliveries} ms per 1,000 deliveries (profiled).`, '');
    lines.push('| Package / subsystem | Self ms | Share |', '|---|---:|---:|');
    for (const c of peer.byCategory.slice(0, 10)) lines.push(`| ${c.name} | ${c.selfMs} | ${pct(c.share)} |`);
    lines.push('', '| Function (self time) | Self ms | Share |', '|---|---:|---:|');
    for (const f of peer.topFunctions.slice(0, 12)) lines.push(`| ${f.name.replace(/\|/g, '\\|')} | ${f.selfMs} | ${pct(f.share)} |`);
    lines.push('');
  }
  return lines;
}

/** The higher rates a sustained result was tried at first and fell behind at, if any. */
function triedHigher(sustained: CdcResult['sustained']): string {
  const higher = (sustained.attempts ?? []).filter((a) => a.offeredChangesPerSec > sustained.offeredChangesPerSec && !a.lagNotGrowing);
  if (higher.length === 0) return '';
  return `; fell behind first at ${higher.map((a) => `${Math.round(a.offeredChangesPerSec)}/s (backlog ${a.backlogAtEnd})`).join(', ')}`;
}

/** Scenario `cdc`: commit → subscriber latency, drain capacity against a bare decoder, sustained rate. */
function cdcSection(result: CdcResult): string[] {
  const { latency, capacity, rawDecode, sustained } = result;
  const rate = (n: number): string => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')}/s` : '–');
  return [
    '## CDC: PostgreSQL commit → graphql-ws subscriber',
    '',
    `Run ${result.startedAt}${result.quick ? ' (quick: not meaningful)' : ''}; ${result.machine.cores} cores, ${result.machine.cpuModel}; ${result.platform}. ` +
      'The platform runs every role in one process (API, cdc, outbox); the writer and the subscriber share the bench process. ' +
      'Each change is validated, stored in the topic history and published before the slot position is confirmed; changes are sent to Redis pipelined (up to 256 in flight, in commit order).',
    '',
    '| Measure | Result | Goal |',
    '|---|---|---|',
    `| Latency at ${latency.rate} tx/s (${latency.seconds} s${latency.warmUp ? ` after ${latency.warmUp.seconds} s of the same load unmeasured` : ''}, ${rate(latency.achievedTxPerSec)} achieved), COMMIT reply → subscriber: p50 / p99 / max | ${ms(latency.latency.p50Ms)} / ${ms(latency.latency.p99Ms)} / ${ms(latency.latency.maxMs)} ms (${latency.delivered}/${latency.committed} delivered; ${pct(latency.arrivedBeforeCommitReplyShare)} arrived before the writer saw its reply and count 0) | p50 ≤ 10 ms, p99 ≤ 50 ms |`,
    `| The same, from sending the INSERT (includes executing and committing it): p50 / p99 / max | ${ms(latency.fromSend.p50Ms)} / ${ms(latency.fromSend.p99Ms)} / ${ms(latency.fromSend.maxMs)} ms | |`,
    ...(latency.warmUp
      ? [
          `| The warm-up before it (the first ${latency.warmUp.seconds} s of load on a process that has compiled nothing yet; not judged): p50 / p99 / max | ${ms(latency.warmUp.latency.p50Ms)} / ${ms(latency.warmUp.latency.p99Ms)} / ${ms(latency.warmUp.latency.maxMs)} ms (${latency.warmUp.delivered}/${latency.warmUp.committed} delivered) | |`,
        ]
      : []),
    `| Drain rate of a ${capacity.rows.toLocaleString('en-US')}-row burst (written at ${rate(capacity.writeRowsPerSec)}) | ${rate(capacity.drainChangesPerSec)} (peak slot lag ${mb(capacity.maxSlotLagBytes)} MB) | ≥ 5,000/s |`,
    `| Peer \`raw-decode\` (bare pgoutput consumer of the same WAL) | ${rate(rawDecode.changesPerSec)}; ours is ${times(capacity.drainChangesPerSec / rawDecode.changesPerSec)} of it | — |`,
    `| Sustained: ${rate(sustained.offeredChangesPerSec)} for ${sustained.seconds} s (${pct(sustained.shareOfDrainRate ?? 0.8)} of the drain rate) | ${sustained.lagNotGrowing ? 'lag not growing' : 'lag grows'} (backlog at end ${sustained.backlogAtEnd}, slot lag 2 s later ${sustained.slotLagBytesTwoSecondsLater} B)${triedHigher(sustained)} | |`,
    '',
    `Where we are behind: the raw decoder reads the WAL ${times(rawDecode.changesPerSec / capacity.drainChangesPerSec)} as fast as we deliver; the difference is what each change costs our one process: converting the row, validating it against the topic schema, building and serializing the envelope, the publish script call (pipelined, not awaited one by one) and delivering it to the subscriber.`,
    '',
    ...cdcSizesTable(result, rate),
  ];
}

/** The latency phase and a smaller burst again with 1 KB and 10 KB rows (random text, so TOAST cannot shrink it). */
function cdcSizesTable(result: CdcResult, rate: (n: number) => string): string[] {
  if (!result.sizes || result.sizes.length === 0) return [];
  const lines = [
    `Larger rows: the \`pad\` column holds random text of the size shown instead of 100 bytes; latency at the same ${result.latency.rate} tx/s for ${result.sizes[0]?.latency.seconds ?? '?'} s, then a ${result.sizes[0]?.capacity.rows.toLocaleString('en-US') ?? '?'}-row burst drained by ours and read by \`raw-decode\`.`,
    '',
    '| Row | Latency p50 / p99 / max (from COMMIT reply) | Delivered | Ours drain | raw-decode | Ours ÷ raw-decode |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const size of result.sizes) {
    lines.push(
      `| ${size.rowBytes / 1024} KB | ${ms(size.latency.latency.p50Ms)} / ${ms(size.latency.latency.p99Ms)} / ${ms(size.latency.latency.maxMs)} ms | ${size.latency.delivered}/${size.latency.committed} | ` +
        `${rate(size.capacity.drainChangesPerSec)} | ${rate(size.rawDecode.changesPerSec)} | ${times(size.capacity.drainChangesPerSec / size.rawDecode.changesPerSec)} |`,
    );
  }
  lines.push('');
  return lines;
}

/** The raw BullMQ no-op rate measured with the variant's event size (the default size when not measured). */
function rawBullmqFor(result: WebhooksResult, variant: WebhooksResult['variants'][number]): number {
  return result.rawBullmqSizes?.find((b) => b.payloadBytes === variant.payloadBytes)?.jobsPerSec ?? result.rawBullmq.jobsPerSec;
}

function webhooksSection(result: WebhooksResult): string[] {
  const s = result.settings;
  const lines = [
    '## webhooks: deliveries per second',
    '',
    `Run ${result.startedAt} (${result.durationSeconds} s). Node ${result.machine.node}, ${result.machine.cpuModel} × ${result.machine.cores} cores, repository HEAD \`${result.machine.gitCommit}\`. **Ours is** ${result.platformBuild}.`,
    '',
    `Each variant: ${s.events} events${s.goalEvents && s.goalEvents !== s.events ? ` (${s.goalEvents.toLocaleString('en-US')} for \`ok\`)` : ''} of ${s.payloadBytes}-byte data published with the worker stopped, then \`realtime start --role webhooks\` (concurrency ${s.concurrency}, retry schedule \`${s.retrySchedule}\`) drains them into a receiver in its own process; ${s.warmUpEvents ? `the backlog holds ${s.warmUpEvents.toLocaleString('en-US')} more${s.goalWarmUpEvents && s.goalWarmUpEvents !== s.warmUpEvents ? ` (${s.goalWarmUpEvents.toLocaleString('en-US')} for \`ok\`, the variant the goals are judged on: a worker runs for days, and V8 was still optimizing ours after 2,000; the others keep the smaller number for the suite's time budget)` : ''}, delivered first to warm the worker up (every peer alike: the POST loop sends as many first, the BullMQ worker completes as many first), and deliveries/s = events ÷ (last new id − the moment the last warm-up id arrived)` : 'deliveries/s = events ÷ (last new id − first request)'}. ` +
      'Everything (API, worker, receiver, bench, Redis, PostgreSQL) shares the machine. Peers, same receiver, concurrency and event size: a plain undici POST loop (a failed POST retried at once) and a BullMQ worker doing nothing per job (the same for every receiver variant of one size). `ok 1 KB` and `ok 10 KB` are `ok` with larger events.',
    '',
    '| Variant | Ours deliveries/s | Ours requests | Worker CPU-s | Deliveries / worker CPU-s | Raw HTTP POST loop /s | Raw BullMQ no-op jobs/s | Ours ÷ lower raw peer |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of result.variants) {
    const bull = rawBullmqFor(result, v);
    const lower = Math.min(v.rawHttp.deliveriesPerSec, bull);
    lines.push(
      v.skipped
        ? `| ${v.variant} | skipped: ${v.skipped} | | | | | | |`
        : v.ours.error
        ? `| ${v.variant} | failed: ${v.ours.error.split('\n')[0]} | | | | ${v.rawHttp.deliveriesPerSec} | ${bull} | |`
        : `| ${v.variant} | ${v.ours.deliveriesPerSec} | ${v.ours.requests} | ${v.ours.workerCpuSeconds} | ${v.ours.deliveriesPerWorkerCpuSecond} | ${v.rawHttp.deliveriesPerSec} | ${bull} | ${(v.ours.deliveriesPerSec / lower).toFixed(2)}× |`,
    );
  }
  for (const v of result.variants.filter((one) => one.rounds && one.rounds.length > 1)) {
    const ratios = (v.rounds ?? []).map((r) => `${r.ratio.toFixed(2)}× (${r.ours} vs ${r.rawHttp} / ${r.rawBullmq})`);
    lines.push('', `\`${v.variant}\` was measured in ${v.rounds?.length} rounds, each running ours, the POST loop and the BullMQ worker in turn; its row is the round with the median ratio (with an even count, the lower of the two middle ones). Every round, ours ÷ the lower peer (ours vs POST loop / BullMQ): ${ratios.join('; ')}.`);
  }
  lines.push('');
  if ('error' in result.latency) lines.push(`First-attempt latency: failed (${result.latency.error}).`, '');
  else {
    const l = result.latency;
    lines.push(
      `First-attempt latency (publish request sent → receiver got the first attempt), ${l.rate} events/s for ${s.latencySeconds} s with the worker running: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, p99.9 ${l.p999Ms} ms, max ${l.maxMs} ms (${l.delivered}/${l.offered} delivered).`,
      '',
    );
  }
  lines.push(
    'Reading it: `fail10` ends only after the failed tenth is retried, one schedule step (1 s) later, so its rate is bounded by the retry delay, not by throughput. ' +
      '`slow50` is bounded by concurrency × 50 ms (2,000/s at 100) for the POST loop; ours sends first attempts from the dispatcher (at most half its slots to one endpoint, the rest of a batch queued for the BullMQ worker), so its bound differs. ' +
      'Ours does strictly more per delivery than either peer: a PostgreSQL row and attempt record, HMAC signing, CloudEvents JSON, and the POST (and, for retries and whatever the dispatcher queues, a BullMQ job).',
    '',
  );
  const ok = result.variants.find((v) => v.variant === 'ok');
  if (ok && !ok.ours.error) {
    const lower = Math.min(ok.rawHttp.deliveriesPerSec, result.rawBullmq.jobsPerSec);
    const ratio = ok.ours.deliveriesPerSec / lower;
    const absolute = ok.ours.deliveriesPerSec >= 2000 ? 'met' : `**not met** (${2000 - ok.ours.deliveriesPerSec}/s short)`;
    const relative = ratio >= 0.5 ? 'met' : `**not met**: ${ratio.toFixed(2)}× instead of 0.5×, ${Math.ceil(0.5 * lower) - ok.ours.deliveriesPerSec}/s short`;
    lines.push(
      `Goals (issue 8), on \`ok\`: ≥ 2,000 deliveries/s — ${absolute} (${ok.ours.deliveriesPerSec}/s); ≥ 0.5× the lower raw peer (${lower}/s) — ${relative}. ` +
        `Behind the raw BullMQ no-op worker by ${(result.rawBullmq.jobsPerSec / ok.ours.deliveriesPerSec).toFixed(1)}× and the raw POST loop by ${(ok.rawHttp.deliveriesPerSec / ok.ours.deliveriesPerSec).toFixed(1)}×.`,
      '',
    );
    // Everything shares two cores, so the rate follows the machine's CPU per delivery, wherever it is spent.
    const split = (byProcess: Record<string, number> | undefined): string | undefined => {
      if (!byProcess) return undefined;
      const total = Object.values(byProcess).reduce((a, b) => a + b, 0);
      return `${total} µs (${Object.entries(byProcess).map(([group, micros]) => `${group} ${micros}`).join(', ')})`;
    };
    const oursSplit = split(ok.ours.cpuMicrosPerDelivery);
    const postSplit = split(ok.rawHttp.cpuMicrosPerDelivery);
    if (oursSplit && postSplit) {
      lines.push(
        `Where the machine's CPU goes per delivery of \`ok\` (every process; the median round where there were several): ours ${oursSplit}; the raw POST loop ${postSplit} (\`bench\` is the loop itself). ` +
          'Where both are bound by the machine\'s two cores, the rate follows this sum, and 0.5× the loop means at most about twice its total.',
        '',
      );
    }
  }
  return lines;
}

function syncSection(result: SyncResult): string[] {
  const { settings } = result;
  const top = Math.max(...settings.rates);
  const headline = (peer: SyncResult['peers'][number]): string => {
    const passing = peer.steps.filter((s) => s.passes).map((s) => s.rate);
    if (passing.length === 0) return peer.error ? `failed: ${peer.error}` : 'no rate passed';
    const best = Math.max(...passing);
    return best >= top ? `≥ ${best} patches/s (the highest rate tried)` : `${best} patches/s`;
  };
  /** The highest acknowledged rate with every copy identical to the server's, whatever the latency. */
  const sustained = (peer: SyncResult['peers'][number]): number =>
    Math.max(0, ...peer.steps.filter((s) => s.deliveryRatio === 1 && s.identicalToServer && s.acknowledged === s.sent).map((s) => s.patchesPerSec));
  const lines = [
    '## sync: patches on one document with many subscribers',
    '',
    `Run ${result.startedAt}, ${result.durationSeconds} s, ${result.platformBuild}. One document (about ${settings.documentBytes} bytes), ${settings.subscribers} graphql-ws subscribers, ` +
      `a writer sending \`patchDocument\` (${settings.patchBytes}-byte patch, no ifVersion, open loop) at fixed rates, ${settings.warmupSeconds} s warm-up + ${settings.measureSeconds} s measured per rate. ` +
      'Latency: the writer’s send → a subscriber’s copy updated; convergence: the writer’s send → the LAST subscriber’s copy updated. After each rate every copy is ' +
      'compared with the server’s document. The row marked “× 10 KB pad” repeats the lowest rate with the patch’s pad that large (the document grows by as much).',
    '',
    `Headline (every patch delivered to every subscriber, copies identical to the server, p99 < ${settings.p99LimitMs} ms):`,
    '',
  ];
  for (const peer of result.peers) lines.push(`- **${peer.peer}**: ${headline(peer)}; highest throughput with every patch delivered to every subscriber (at any latency): ${sustained(peer)} patches/s.`);
  const ours = result.peers.find((p) => p.peer === 'ours');
  const naive = result.peers.find((p) => p.peer === 'naive-sync');
  if (ours && naive && sustained(naive) > 0) {
    const ratio = sustained(ours) / sustained(naive);
    lines.push(
      '',
      Math.abs(ratio - 1) < 0.05
        ? `Ours and naive-sync reach about the same throughput (${times(ratio)}); every write of ours is committed to PostgreSQL first, naive-sync keeps nothing durable.`
        : ratio < 1
        ? `Ours reaches ${times(ratio)} the throughput of naive-sync: behind by ${Math.round((1 - ratio) * 100)}%. Every write of ours is committed to PostgreSQL before it is acknowledged; naive-sync keeps nothing durable.`
        : `Ours reaches ${times(ratio)} the throughput of naive-sync, although every write of ours is committed to PostgreSQL first and naive-sync keeps nothing durable.`,
    );
  }
  for (const peer of result.peers) {
    lines.push('', `### ${peer.peer}`, '', peer.description, '');
    lines.push(
      '| Offered | Acknowledged/s | Delivery | Converged | p50 ms | p99 ms | max ms | All converged p99 ms | Ack p99 ms | Server CPU (waited) | Patches / server CPU-s | Deliveries / server CPU-s | Redis CPU | Others’ cores | Passes |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
    );
    for (const s of peer.steps) {
      lines.push(
        `| ${s.rate}/s${s.padBytes ? ` × ${s.padBytes / 1024} KB pad` : ''} | ${s.patchesPerSec} | ${pct(s.deliveryRatio)} | ${s.converged}/${settings.subscribers}${s.identicalToServer ? '' : ' (differ!)'} | ${ms(s.latency.p50Ms)} | ${ms(s.latency.p99Ms)} | ${ms(s.latency.maxMs)} | ` +
          `${ms(s.convergence.p99Ms)} | ${ms(s.ackMs.p99)} | ${pct(s.server.cpuUtilization)} (${pct(s.server.runQueueWaitShare)}) | ${s.server.patchesPerCpuSecond} | ${s.server.deliveriesPerCpuSecond} | ${s.redis ? pct(s.redis.cpuUtilization) : '–'} | ${s.foreignCpuCores}${s.foreignCpuCores > 0.2 ? ' (disturbed)' : ''}${s.attempts === 2 ? ', best of 2 runs' : ''} | ${s.passes ? '✓' : '✗'} |`,
      );
    }
    if (peer.error) lines.push('', `Stopped early: ${peer.error}`);
    for (const s of peer.steps.filter((step) => step.violations.length > 0)) lines.push('', `${s.label}: ${s.violations.slice(0, 3).join('; ')}`);
  }
  lines.push('');
  return lines;
}

/** One SVG per scenario that has no chart of its own yet: CDC, webhooks and sync, each against its peers. */
function scenarioCharts(dir: string, results: { cdc?: CdcResult | undefined; webhooks?: WebhooksResult | undefined; sync?: SyncResult | undefined }): string[] {
  const links: string[] = [];
  const { cdc, webhooks, sync } = results;
  if (cdc) {
    writeFileSync(
      join(dir, 'cdc.svg'),
      barChart({
        title: 'CDC: changes per second from one source (higher is better)',
        yLabel: 'changes / s',
        groups: ['50,000-row burst'],
        series: [
          { name: 'ours (delivered)', color: PEER_COLORS.ours ?? '#2e9e5b', values: [cdc.capacity.drainChangesPerSec] },
          { name: 'raw-decode (read only)', color: '#8c8c8c', values: [cdc.rawDecode.changesPerSec] },
        ],
        threshold: { value: 5000, label: 'goal 5,000/s' },
      }),
    );
    links.push('![CDC throughput](cdc.svg)');
  }
  if (webhooks) {
    const measuredVariants = webhooks.variants.filter((v) => !v.skipped);
    writeFileSync(
      join(dir, 'webhooks.svg'),
      barChart({
        title: 'Webhooks: deliveries per second by variant (higher is better)',
        yLabel: 'deliveries / s',
        groups: measuredVariants.map((v) => v.variant),
        series: [
          { name: 'ours', color: PEER_COLORS.ours ?? '#2e9e5b', values: measuredVariants.map((v) => (v.ours.error ? null : v.ours.deliveriesPerSec)) },
          { name: 'raw HTTP POST loop', color: '#8c8c8c', values: measuredVariants.map((v) => v.rawHttp.deliveriesPerSec) },
          { name: 'raw BullMQ no-op', color: '#3b7dd8', values: measuredVariants.map((v) => rawBullmqFor(webhooks, v)) },
        ],
        threshold: { value: 2000, label: 'goal 2,000/s' },
      }),
    );
    links.push('![webhook throughput](webhooks.svg)');
  }
  if (sync) {
    writeFileSync(
      join(dir, 'sync.svg'),
      barChart({
        title: `Sync: p99 until all ${sync.settings.subscribers} copies converge, ms (log scale, lower is better)`,
        yLabel: 'p99 convergence (ms)',
        groups: sync.settings.rates.map((r) => `${r} patches/s`),
        series: sync.peers.map((peer) => ({
          name: peer.peer,
          color: peer.peer === 'ours' ? (PEER_COLORS.ours ?? '#2e9e5b') : '#e0912f',
          values: sync.settings.rates.map((rate) => {
            const step = peer.steps.find((s) => s.rate === rate && !s.padBytes);
            return step && step.status === 'measured' ? step.convergence.p99Ms : null;
          }),
        })),
        log: true,
        threshold: { value: sync.settings.p99LimitMs, label: `${sync.settings.p99LimitMs} ms` },
      }),
    );
    links.push('![sync convergence](sync.svg)');
  }
  return links;
}

export function writeSummary(dir: string): string {
  const read = <T>(name: string): T | undefined => (existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined);
  const fanout = read<FanoutResult>('fanout.json');
  const profile = read<ProfileResult>('profile.json');
  const twoInstances = read<FanoutResult>('two-instances.json');
  const topics = read<FanoutResult>('topics.json');
  const idle = read<IdleResult>('idle.json');
  const cdc = read<CdcResult>('cdc.json');
  const webhooks = read<WebhooksResult>('webhooks.json');
  const sync = read<SyncResult>('sync.json');
  const lines = [
    '# Benchmark results',
    '',
    'Generated by `node bench/dist/run.js` from the raw results beside this file (`<scenario>.json`). Every number comes from one run on one machine; ' +
      'compare peers within a run, not across runs or machines.',
    '',
    ...glanceSection({ fanout, twoInstances, idle, cdc, webhooks }),
  ];
  if (fanout) {
    fanoutCharts(fanout, dir);
    lines.push(...fanoutSection(fanout));
  }
  if (topics) lines.push(...topicsSection(topics, dir));
  const groups = read<FanoutResult>('groups.json');
  if (groups) lines.push(...groupsSection(groups, dir));
  if (twoInstances) lines.push(...twoInstancesSection(twoInstances, dir));
  if (idle) lines.push(...idleSection(idle, dir));
  if (profile) lines.push(...profileSection(profile));
  const [cdcChart, webhooksChart, syncChart] = [{ cdc }, { webhooks }, { sync }].map((one) => scenarioCharts(dir, one));
  if (cdc) lines.push(...cdcSection(cdc), ...(cdcChart ?? []), '');
  if (webhooks) lines.push(...webhooksSection(webhooks), ...(webhooksChart ?? []), '');
  if (sync) lines.push(...syncSection(sync), ...(syncChart ?? []), '');
  const text = lines.join('\n');
  writeFileSync(join(dir, 'SUMMARY.md'), text);
  return text;
}

export type { PeerName };
