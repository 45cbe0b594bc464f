/** The HTTP side of webhook delivery against a real local receiver: address checks after DNS, redirects, body cap. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSender, parseRetryAfter } from '@realtime/workers';
import { startReceiver, type Receiver } from '../../test/support/receiver.js';

describe('webhook sender', () => {
  let receiver: Receiver;
  let port: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    port = new URL(receiver.url).port;
  });

  afterAll(async () => {
    await receiver.close();
  });

  it('should refuse a host that now resolves to a private address (DNS rebinding), connecting nowhere', async () => {
    // The name resolved to a public address when the endpoint was created; now it answers 127.0.0.1.
    const sender = createWebhookSender({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    try {
      const result = await sender.send(`http://rebind.example:${port}/rebind`, {}, '{}');
      expect(result).toMatchObject({ ok: false, statusCode: null });
      expect(result.error).toMatch(/refused: rebind\.example resolves to 127\.0\.0\.1/);
      expect(receiver.on('/rebind')).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it('should refuse when any one of the resolved addresses is forbidden', async () => {
    const sender = createWebhookSender({
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    });
    try {
      const result = await sender.send(`http://mixed.example:${port}/mixed`, {}, '{}');
      expect(result.error).toMatch(/169\.254\.169\.254/);
    } finally {
      await sender.close();
    }
  });

  it('should refuse IP-literal private hosts, which skip DNS', async () => {
    const sender = createWebhookSender();
    try {
      for (const host of ['127.0.0.1', '[::1]', '[::ffff:7f00:1]']) {
        const result = await sender.send(`http://${host}:${port}/literal`, {}, '{}');
        expect(result.error, host).toMatch(/^refused:/);
      }
      expect(receiver.on('/literal')).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it('should send to a resolved private address when private delivery is allowed', async () => {
    const sender = createWebhookSender({ allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    try {
      const result = await sender.send(`http://hooks.internal:${port}/allowed`, { 'webhook-id': 'evt_1' }, '{"a":1}');
      expect(result).toMatchObject({ ok: true, statusCode: 200, error: null });
      expect(receiver.on('/allowed')[0]).toMatchObject({ body: '{"a":1}', headers: { 'webhook-id': 'evt_1', host: `hooks.internal:${port}` } });
    } finally {
      await sender.close();
    }
  });

  it('should not follow redirects and should keep only the first 4 KiB of a response body', async () => {
    receiver.reply('/moved', { status: 302, headers: { location: `${receiver.url}/target` } });
    receiver.reply('/large', { status: 500, body: 'é'.repeat(50_000) });
    const sender = createWebhookSender({ allowPrivate: true });
    try {
      const moved = await sender.send(`${receiver.url}/moved`, {}, '{}');
      expect(moved).toMatchObject({ ok: false, statusCode: 302, error: 'HTTP 302 (redirects are not followed)' });
      expect(receiver.on('/target')).toHaveLength(0);
      const large = await sender.send(`${receiver.url}/large`, {}, '{}');
      expect(large.statusCode).toBe(500);
      expect(Buffer.byteLength(large.responseExcerpt ?? '')).toBeLessThanOrEqual(4096 + 3);
      expect(large.responseExcerpt?.length).toBeGreaterThan(1000);
    } finally {
      await sender.close();
    }
  });

  it('should report a connection refused and a total timeout as failures without a status', async () => {
    receiver.reply('/slow', { status: 200, delayMs: 2_000 });
    const sender = createWebhookSender({ allowPrivate: true, timeoutMs: 200 });
    try {
      const slow = await sender.send(`${receiver.url}/slow`, {}, '{}');
      expect(slow).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 200 ms' });
      const refused = await sender.send('http://127.0.0.1:1/none', {}, '{}');
      expect(refused).toMatchObject({ ok: false, statusCode: null });
      expect(refused.error).toMatch(/ECONNREFUSED/);
    } finally {
      await sender.close();
    }
  });

  it('should read Retry-After as seconds or an HTTP date, capped at a day', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5_000);
    expect(parseRetryAfter('999999999')).toBe(86_400_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});
