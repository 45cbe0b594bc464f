import { describe, expect, it } from 'vitest';
import { ROLE_NAMES, parseRoles } from '@realtime/workers';

describe('roles', () => {
  it('should run every role by default and on "all"', () => {
    expect(parseRoles(undefined)).toEqual([...ROLE_NAMES]);
    expect(parseRoles('all')).toEqual([...ROLE_NAMES]);
    expect(ROLE_NAMES).toContain('api');
    expect(ROLE_NAMES).toContain('webhooks');
    expect(parseRoles('webhooks')).toEqual(['webhooks']);
  });

  it('should know the cdc and outbox roles, which run by default', () => {
    expect(ROLE_NAMES).toEqual(expect.arrayContaining(['api', 'cdc', 'outbox']));
    expect(parseRoles('cdc, outbox')).toEqual(['cdc', 'outbox']);
  });

  it('should refuse a role that does not exist, listing the ones that do', () => {
    expect(() => parseRoles('api,webhooks-typo')).toThrow(/unknown role "webhooks-typo"; available roles: api/);
    expect(() => parseRoles(',')).toThrow(/unknown role/);
  });
});
