import client from 'prom-client';
import type { Platform } from '@realtime/core';

export interface Metrics {
  registry: client.Registry;
  publishes: client.Counter<'outcome'>;
  wsConnections: client.Gauge;
}

/**
 * The process's Prometheus metrics, served at `/metrics`. One registry per app, so tests that build
 * several apps in one process do not collide. Gauges read the platform when scraped, so the metrics can
 * exist before the platform does (the platform reports publish outcomes into them).
 */
export function createMetrics(platform: () => Platform): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'realtime_' });
  const publishes = new client.Counter({
    name: 'realtime_publish_total',
    help: 'Publish requests by outcome (ok, or the error code).',
    labelNames: ['outcome'] as const,
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
  return { registry, publishes, wsConnections };
}
