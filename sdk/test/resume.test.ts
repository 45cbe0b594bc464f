/** The client's pure parts: what a document resumes with, which closes are final, how long it waits. */
import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import WebSocket from 'ws';
import { type RealtimeClientError, backoffDelay, createRealtimeClient, endpointsOf, expiryOf, isFatalClose, planResume, positionOf, refreshDelayMs } from '@smarterservices/realtime';

describe('planResume', () => {
  it('should resume a topic field by $after from the cursor of its (aliased) root field', () => {
    const plan = planResume(parse('subscription($after: String) { orders: orderUpdated(after: $after) { id cursor data { status } } }'));
    expect(plan).toEqual({ variable: 'after', field: 'cursor', rootKey: 'orders' });
    expect(positionOf(plan!, { orders: { id: 'e1', cursor: 'c1' } })).toBe('c1');
    expect(positionOf(plan!, null)).toBeUndefined();
  });

  it('should resume a document by $sinceVersion from its version', () => {
    const plan = planResume(parse('subscription($sinceVersion: Int) { document(collection: "b", id: "1", sinceVersion: $sinceVersion) { version patch } }'));
    expect(plan).toEqual({ variable: 'sinceVersion', field: 'version', rootKey: 'document' });
    expect(positionOf(plan!, { document: { version: 7 } })).toBe(7);
  });

  it('should have no plan without a position variable, and refuse one whose position is not selected', () => {
    expect(planResume(parse('subscription { orderUpdated { id } }'))).toBeUndefined();
    const refuse = (text: string): RealtimeClientError => {
      try {
        planResume(parse(text));
      } catch (error) {
        return error as RealtimeClientError;
      }
      throw new Error('not refused');
    };
    expect(refuse('subscription($after: String) { orderUpdated(after: $after) { id } }')).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('does not select `cursor` on orderUpdated'),
    });
    expect(refuse('subscription($after: String) { orderUpdated(after: $after) { id c: cursor } }').code).toBe('BAD_USER_INPUT');
    expect(refuse('query { applications { id } }').message).toBe('subscribe takes a subscription; this document is a query');
  });

  it('should refuse to subscribe, before connecting, to a document that would reconnect without its position', () => {
    const client = createRealtimeClient({ url: 'http://127.0.0.1:9/graphql', apiKey: 'pk_unused', webSocketImpl: WebSocket });
    expect(() => client.subscribe('subscription { orderUpdated { id } }', undefined, { next: () => undefined })).toThrow(/declare \$after/);
    const stop = client.subscribe('subscription { orderUpdated { id } }', undefined, { next: () => undefined }, { resume: false });
    stop();
    void client.dispose();
  });
});

describe('connections', () => {
  it('should treat refused credentials and requests as final and every other close as worth a resume', () => {
    for (const code of [4400, 4401, 4403, 4406, 4409, 4429, 1009]) expect(isFatalClose(code)).toBe(true);
    for (const code of [1000, 1001, 1006, 1011, 4008, 4408, 4500]) expect(isFatalClose(code)).toBe(false);
  });

  it('should wait longer after each failed attempt, up to the cap, with half of each wait random', () => {
    const options = { minDelayMs: 100, maxDelayMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, options, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, options, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('should derive both endpoints from any form of the address', () => {
    expect(endpointsOf('http://localhost:4000')).toEqual({ http: 'http://localhost:4000', ws: 'ws://localhost:4000/graphql' });
    expect(endpointsOf('wss://rt.example.com/base/graphql/')).toEqual({ http: 'https://rt.example.com/base', ws: 'wss://rt.example.com/base/graphql' });
  });

  it('should read a token’s expiry without verifying it, and refresh after 60 % of what is left', () => {
    const jwt = (claims: object): string => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    expect(expiryOf(jwt({ sub: 'u', exp: 1_800_000_000 }))).toBe(1_800_000_000);
    expect(expiryOf(jwt({ sub: 'u' }))).toBeUndefined();
    expect(expiryOf('not a jwt')).toBeUndefined();
    expect(refreshDelayMs(1_000 + 3_600, 1_000_000)).toBe(2_160_000);
    expect(refreshDelayMs(1_000, 1_000_000)).toBe(1_000); // already expired: at once, but not in a loop
  });
});
