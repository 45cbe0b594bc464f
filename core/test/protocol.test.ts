import { describe, expect, it } from 'vitest';
import { buildEnvelope, formatCursor, parseCursor, toCloudEvent } from '@realtime/core';

describe('cursors', () => {
  it('should round-trip an epoch and a stream position', () => {
    const text = formatCursor({ epoch: '1795000000123456', offset: 42, position: '1795000000123-7' });
    expect(text).toBe('1795000000123456_42_1795000000123-7');
    expect(parseCursor(text)).toEqual({ epoch: '1795000000123456', offset: 42, position: '1795000000123-7' });
  });

  it('should reject text that is not a cursor', () => {
    for (const bad of ['', 'abc', '1_2', '1_1-2', 'E_1_1-2', '1_1_1-2-3', '1_x_1-1', '1_1_-1', `${'1'.repeat(40)}_1_1-2`]) {
      expect(parseCursor(bad), bad).toBeUndefined();
    }
  });
});

describe('envelope', () => {
  const envelope = buildEnvelope(
    { topic: 'order.updated', applicationId: 'app-1', environment: 'DEV', schemaVersion: 3, data: { a: 1 }, subject: 'o-1' },
    new Date('2026-11-27T10:00:00.000Z'),
  );

  it('should give every event a UUIDv7 id and the accept time', () => {
    expect(envelope.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(envelope.time).toBe('2026-11-27T10:00:00.000Z');
    expect(envelope.traceparent).toBeNull();
    const later = buildEnvelope({ topic: 't', applicationId: 'a', environment: 'DEV', schemaVersion: 1, data: null });
    expect(later.id > envelope.id).toBe(true);
  });

  it('should map to CloudEvents 1.0 JSON with the topic as type', () => {
    const cloudEvent = toCloudEvent({ ...envelope, cursor: '1_1_2-3' });
    expect(cloudEvent).toMatchObject({
      specversion: '1.0',
      id: envelope.id,
      type: 'order.updated',
      source: '/applications/app-1/dev',
      subject: 'o-1',
      time: '2026-11-27T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: { a: 1 },
      cursor: '1_1_2-3',
    });
    expect(cloudEvent).not.toHaveProperty('traceparent');
  });
});

describe('stream positions', () => {
  it('should compare entry ids numerically, not as text', async () => {
    const { comparePositions } = await import('@realtime/core');
    expect(comparePositions('9-0', '10-0')).toBeLessThan(0);
    expect(comparePositions('10-2', '10-10')).toBeLessThan(0);
    expect(comparePositions('1795000000000-5', '1795000000000-5')).toBe(0);
    expect(comparePositions('1795000000001-0', '1795000000000-99')).toBeGreaterThan(0);
  });
});
