/** The codegen-typed example app (examples/order-tracker) following a real platform through the client. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRealtimeClient } from '@smarterservices/realtime';
import { describeUpdate, follow } from '../../examples/order-tracker/src/main.js';
import { gql } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { usePlatform } from '../../test/support/platform.js';
import { eventually } from '../../test/support/services.js';

describe('examples/order-tracker', () => {
  const platform = usePlatform();

  it('should print each order update its typed subscription receives', async () => {
    const owner = await ownerWithApplication(platform.url, 'Orders');
    const topics = JSON.parse(readFileSync(new URL('../../examples/order-tracker/topics.json', import.meta.url), 'utf8')) as { name: string; schema: unknown }[];
    const order = topics.find((t) => t.name === 'order.updated')!;
    const registered = await gql(
      platform.url,
      `mutation($app: ID!, $schema: JSON!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "order.updated", schema: $schema }) { id } }`,
      { app: owner.app, schema: order.schema },
      { cookie: owner.cookie },
    );
    expect(registered.errors).toBeUndefined();
    const lines: string[] = [];
    const stop = follow(platform.url, owner.pk, (update) => lines.push(describeUpdate(update)));
    const producer = createRealtimeClient({ url: platform.url, apiKey: owner.sk, webSocketImpl: WebSocket });
    try {
      // Published until the subscription is live (it is taken a moment after connecting).
      await eventually(async () => {
        await producer.publish({ topic: 'order.updated', subject: 'o-1', data: { orderId: 'o-1', status: 'PAID', total: 42.5, customer: { id: 'c-1', name: 'Ada' } } });
        return lines.length > 0;
      }, 10_000, 'an update printed');
      expect(lines[0]).toBe('o-1: PAID (paid) total 42.50 for Ada');
    } finally {
      stop();
      await producer.dispose();
    }
  });
});
