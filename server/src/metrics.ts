import client from 'prom-client';
import { lagSeconds, listCdcSources, usesReplication, type CdcSource, type Platform } from '@realtime/core';

export interface Metrics {
  registry: client.Registry;
  publishes: client.Counter<'outcome'>;
  wsConnections: client.Gauge;
  /** GraphQL operation texts parsed and validated: not found in the operation cache (REALTIME_OPERATION_CACHE_SIZE). */
  operationsParsed: client.Counter;
}

/**
 * The process's Prometheus metrics, served at `/metrics`. One registry per app, so tests that build
 * several apps in one process do not collide. Gauges read the platform when scraped, so the metrics can
 * exist before the platform does (the platform reports publish outcomes into them).
 */
export function createMetrics(platform: () => Platform, options: { eventLoopResolutionMs?: number } = {}): Metrics {
  const registry = new client.Registry();
  // Event-loop delay sampled every 100 ms by default: prom-client's 10 ms woke an idle process 100 times a
  // second (idle API CPU 15 → 8 ms/s on the benchmark machine). A coarser sample reads coarser: its p99 and max
  // are about the resolution when the loop is idle; set REALTIME_EVENT_LOOP_RESOLUTION_MS=10 for a finer figure.
  client.collectDefaultMetrics({ register: registry, prefix: 'realtime_', eventLoopMonitoringPrecision: options.eventLoopResolutionMs ?? 100 });
  const publishes = new client.Counter({
    name: 'realtime_publish_total',
    help: 'Publish requests by outcome (ok, or the error code).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const operationsParsed = new client.Counter({
    name: 'realtime_graphql_operations_parsed_total',
    help: 'GraphQL operation texts parsed and validated, not found in the operation cache (REALTIME_OPERATION_CACHE_SIZE); steady growth with a steady set of clients means the cache is too small, or clients write per-client values inline instead of in variables.',
    registers: [registry],
  });
  const wsConnections = new client.Gauge({
    name: 'realtime_ws_connections',
    help: 'Open graphql-ws connections.',
    registers: [registry],
  });
  new client.Gauge({
    name: 'realtime_subscriber_channels',
    help: 'Redis Pub/Sub channels this process is subscribed to.',
    registers: [registry],
    collect() {
      this.set(platform().subscriber.channelCount());
    },
  });
  new client.Gauge({
    name: 'realtime_subscriber_listeners',
    help: 'Live subscriptions (listeners across all channels) in this process.',
    registers: [registry],
    collect() {
      this.set(platform().subscriber.listenerCount());
    },
  });
  // CDC slot lag as the cdc workers last reported it (any instance serves it: it is read from PostgreSQL).
  const cdcLabels = ['source', 'name', 'application', 'environment'] as const;
  const cdcGauge = (name: string, help: string, value: (source: CdcSource) => number | null): void => {
    new client.Gauge({
      name,
      help,
      labelNames: cdcLabels,
      registers: [registry],
      async collect() {
        this.reset();
        for (const source of await listCdcSources(platform().pool)) {
          const measured = usesReplication(source) ? value(source) : null;
          if (measured === null) continue;
          this.set({ source: source.id, name: source.name, application: source.applicationId, environment: source.environment }, measured);
        }
      },
    });
  };
  cdcGauge('realtime_cdc_slot_lag_bytes', 'WAL bytes between a CDC source slot’s confirmed position and the server’s current position.', (s) => s.lagBytes);
  cdcGauge('realtime_cdc_slot_lag_seconds', 'Seconds since a CDC source’s consumer last had nothing outstanding.', (s) => lagSeconds(s));
  return { registry, publishes, wsConnections, operationsParsed };
}
