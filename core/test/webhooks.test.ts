/** Pure units of webhooks: address rules, URL validation (with an injected resolver), filters, signing, config. */
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  assertWebhookUrl,
  compileWebhookFilter,
  deliveryIdFor,
  generateWebhookSecret,
  isForbiddenAddress,
  loadConfig,
  webhookHeaders,
  webhookJobId,
  type EventEnvelope,
} from '@realtime/core';

describe('forbidden addresses', () => {
  it.each([
    '127.0.0.1', '127.255.0.1', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fd00:ec2::254', 'fc00::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe', '64:ff9b::10.0.0.1', 'not-an-ip',
  ])('should refuse %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('should allow %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });
});

describe('webhook URL validation', () => {
  const publicResolver = async (): Promise<{ address: string; family: number }[]> => [{ address: '93.184.216.34', family: 4 }];

  it('should accept https anywhere and http outside PROD for a public host', async () => {
    await expect(assertWebhookUrl('https://hooks.example.com/in', { environment: 'PROD', allowPrivate: false, resolve: publicResolver })).resolves.toBe('https://hooks.example.com/in');
    await expect(assertWebhookUrl('http://hooks.example.com/in', { environment: 'DEV', allowPrivate: false, resolve: publicResolver })).resolves.toBe('http://hooks.example.com/in');
  });

  it('should refuse http in PROD, other schemes, credentials, unresolvable hosts and private resolutions', async () => {
    const rules = { environment: 'PROD' as const, allowPrivate: false, resolve: publicResolver };
    await expect(assertWebhookUrl('http://hooks.example.com/in', rules)).rejects.toThrow(/https in the PROD environment/);
    await expect(assertWebhookUrl('file:///etc/passwd', rules)).rejects.toThrow(/must use https/);
    await expect(assertWebhookUrl('https://a:b@hooks.example.com/', rules)).rejects.toThrow(/credentials/);
    await expect(assertWebhookUrl('https://nowhere.example/', { ...rules, resolve: async () => { throw new Error('ENOTFOUND'); } })).rejects.toThrow(/does not resolve/);
    await expect(assertWebhookUrl('https://inside.example/', { ...rules, resolve: async () => [{ address: '10.0.0.7', family: 4 }] })).rejects.toThrow(/resolves to 10\.0\.0\.7/);
    await expect(assertWebhookUrl('https://inside.example/', { ...rules, allowPrivate: true, resolve: async () => [{ address: '10.0.0.7', family: 4 }] })).resolves.toBe('https://inside.example/');
  });
});

describe('webhook filters', () => {
  const event = (data: unknown, subject: string | null = 'o-1'): EventEnvelope => ({
    id: 'e', topic: 'order.updated', source: '/s', time: '2026-01-01T00:00:00Z', applicationId: 'a', environment: 'DEV', subject, schemaVersion: 1, cursor: '', traceparent: null, data,
  });

  it('should match literals, operators, nested paths, subject, and and or', () => {
    const filter = compileWebhookFilter({
      'data.status': { in: ['PAID', 'SHIPPED'] },
      'data.customer.tier': 'gold',
      or: [{ subject: 'o-1' }, { 'data.total': { gte: 100 } }],
    });
    expect(filter(event({ status: 'PAID', customer: { tier: 'gold' }, total: 5 }))).toBe(true);
    expect(filter(event({ status: 'PAID', customer: { tier: 'gold' }, total: 500 }, 'o-2'))).toBe(true);
    expect(filter(event({ status: 'PAID', customer: { tier: 'gold' }, total: 5 }, 'o-2'))).toBe(false);
    expect(filter(event({ status: 'NEW', customer: { tier: 'gold' } }))).toBe(false);
    expect(compileWebhookFilter({ 'data.x': { exists: false } })(event({}))).toBe(true);
    expect(compileWebhookFilter({ 'data.n': { gt: 1, lt: 3 } })(event({ n: '2' }))).toBe(false);
    expect(compileWebhookFilter(null)(event({}))).toBe(true);
  });

  it('should refuse unknown keys and operators with BAD_USER_INPUT naming where', () => {
    expect(() => compileWebhookFilter({ 'data.n': { near: 1 } })).toThrow(/filter\.data\.n\.near: unknown operator/);
    expect(() => compileWebhookFilter({ customer: 1 })).toThrow(/filter\.customer/);
    expect(() => compileWebhookFilter({ or: [] })).toThrow(/non-empty list/);
    expect(() => compileWebhookFilter([1])).toThrow(/must be an object/);
  });
});

describe('Standard Webhooks signing', () => {
  it('should produce headers the standardwebhooks package verifies, with one signature per secret', () => {
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    const body = JSON.stringify({ hello: 'world' });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders(secrets, 'evt_123', timestamp, body);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    for (const secret of secrets) expect(new Webhook(secret).verify(body, headers)).toEqual({ hello: 'world' });
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    // Signed again with the same secrets (their decoded keys are kept): still each secret's own signature.
    const again = webhookHeaders(secrets, 'evt_124', timestamp, '{"n":2}');
    for (const secret of secrets) expect(new Webhook(secret).verify('{"n":2}', again)).toEqual({ n: 2 });
  });
});

describe('delivery ids', () => {
  it('should derive the same UUID-shaped id for the same endpoint, event and origin, and job ids BullMQ accepts', () => {
    const id = deliveryIdFor('0190a0a0-0000-7000-8000-000000000000', 'evt:1', 'live');
    expect(id).toBe(deliveryIdFor('0190a0a0-0000-7000-8000-000000000000', 'evt:1', 'live'));
    expect(id).not.toBe(deliveryIdFor('0190a0a0-0000-7000-8000-000000000000', 'evt:1', 'replay:x'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(webhookJobId(id, 2)).not.toContain(':');
  });
});

describe('webhook configuration', () => {
  it('should read the retry schedule and durations, and refuse malformed ones naming the variable', () => {
    const config = loadConfig({ REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s,2m', REALTIME_WEBHOOK_DISABLE_AFTER: '2h', REALTIME_WEBHOOK_ALLOW_PRIVATE: '1' });
    expect(config.webhooks).toMatchObject({ retryScheduleMs: [0, 1_000, 120_000], disableAfterMs: 7_200_000, allowPrivate: true, retentionMs: 30 * 86_400_000 });
    expect(loadConfig({}).webhooks.retryScheduleMs).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(() => loadConfig({ REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,soon' })).toThrow(/REALTIME_WEBHOOK_RETRY_SCHEDULE/);
    expect(() => loadConfig({ REALTIME_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/REALTIME_WEBHOOK_ALLOW_PRIVATE/);
    expect(() => loadConfig({ REALTIME_WEBHOOK_DISABLE_AFTER: '5 days' })).toThrow(/REALTIME_WEBHOOK_DISABLE_AFTER/);
  });
});
