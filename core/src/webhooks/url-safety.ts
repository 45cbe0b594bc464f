import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { badInput } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';

/**
 * Addresses a webhook may never reach unless private delivery is allowed (REALTIME_WEBHOOK_ALLOW_PRIVATE=1):
 * "this network", loopback, RFC 1918 private, carrier-grade NAT, link-local (cloud metadata at
 * 169.254.169.254 included), IETF protocol assignments, benchmarking, multicast and reserved ranges, and
 * their IPv6 counterparts (unique local fc00::/7, which holds fd00:ec2::254, link-local, multicast).
 * IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address carries (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1] as string, 16);
  const low = parseInt(hex[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True when `address` (an IP literal) is one a webhook must not reach without REALTIME_WEBHOOK_ALLOW_PRIVATE. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== undefined) return FORBIDDEN.check(v4, 'ipv4');
    return FORBIDDEN.check(address, 'ipv6');
  }
  return true;
}

/** Resolves a host name to every address it has (the platform's resolver unless a test passes another). */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: HostResolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface WebhookUrlRules {
  environment: EnvironmentName;
  /** REALTIME_WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** @default the system resolver */
  resolve?: HostResolver;
}

const MAX_URL_LENGTH = 2048;

/** The host of a URL without IPv6 brackets. */
export const bareHostname = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/**
 * Checks a webhook URL when an endpoint is created or changed, and returns it normalized. Refuses with
 * BAD_USER_INPUT (field `url`): anything but http(s); plain http in PROD (production is the PROD
 * environment); credentials in the URL; and, unless private delivery is allowed, a host that does not
 * resolve or resolves to any forbidden address. The same address rule is enforced again at every send,
 * after DNS resolution, so a host that later resolves elsewhere (DNS rebinding) is refused then.
 */
export async function assertWebhookUrl(text: string, rules: WebhookUrlRules): Promise<string> {
  const { environment, allowPrivate, resolve = systemResolver } = rules;
  const invalid = (why: string): never => {
    throw badInput(`url "${text.slice(0, 200)}" ${why}`, { field: 'url' });
  };
  if (text.length > MAX_URL_LENGTH) invalid(`is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') invalid('must use https (or http outside PROD)');
  if (url.protocol === 'http:' && environment === 'PROD') invalid('must use https in the PROD environment');
  if (url.username || url.password) invalid('must not carry credentials; authenticate the request by its signature');
  if (!allowPrivate) {
    const host = bareHostname(url);
    if (isIP(host)) {
      if (isForbiddenAddress(host)) invalid('points to a loopback, private, link-local or metadata address, which webhooks may not reach');
    } else {
      let addresses: { address: string }[];
      try {
        addresses = await resolve(host);
      } catch {
        return invalid(`has a host (${host}) that does not resolve`);
      }
      if (addresses.length === 0) invalid(`has a host (${host}) that does not resolve`);
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad) invalid(`resolves to ${bad.address}, a loopback, private, link-local or metadata address, which webhooks may not reach`);
    }
  }
  return url.toString();
}
