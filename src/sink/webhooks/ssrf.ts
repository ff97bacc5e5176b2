import { lookup as dnsLookup } from 'node:dns';
import { promises as dns } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Private, loopback, link-local, CGNAT, multicast and reserved ranges (v4 and v6). */
const BLOCKED: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'], ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'],
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d.
  ['::', 96, 'ipv6'], ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'], ['ff00::', 8, 'ipv6'],
  // Addresses that embed an IPv4 address: NAT64 (well-known and local-use), 6to4, SIIT
  // (::ffff:0:0:0/96, ::ffff:0:a.b.c.d). ::ffff:a.b.c.d (mapped) is unwrapped in isPrivateAddress.
  ['64:ff9b::', 96, 'ipv6'], ['64:ff9b:1::', 48, 'ipv6'], ['2002::', 16, 'ipv6'], ['::ffff:0:0:0', 96, 'ipv6'],
];
// One list per family: node's BlockList matches IPv4 addresses against IPv6 subnets too (as
// ::a.b.c.d), so ::/96 in a shared list would block every public IPv4 address.
const blocked = { ipv4: new BlockList(), ipv6: new BlockList() };
for (const [net, prefix, type] of BLOCKED) blocked[type].addSubnet(net, prefix, type);

export class SsrfError extends Error {
  override name = 'SsrfError';
}

const family = (ip: string): 'ipv4' | 'ipv6' => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), if any. */
function mappedV4(ip: string): string | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1];
}

export function isPrivateAddress(ip: string): boolean {
  const v4 = mappedV4(ip);
  if (v4) return isPrivateAddress(v4);
  const f = family(ip);
  return blocked[f].check(ip, f);
}

export interface AddressGuard {
  /** Resolves the URL's host; throws SsrfError when an address is private and not allow-listed. */
  check(url: string): Promise<string[]>;
  /** Whether one resolved address may be connected to. */
  allowed(ip: string): boolean;
  /** A `lookup` for net/tls/undici connect options: re-checks at connect time (DNS rebinding). */
  lookup: typeof dnsLookup;
}

/** allowList: IPs or CIDRs (`127.0.0.1`, `10.0.0.0/8`, `::1`). */
export function createAddressGuard(allowList: readonly string[]): AddressGuard {
  const allow = new BlockList();
  for (const entry of allowList) {
    const [net, prefix] = entry.split('/');
    if (!net || !isIP(net)) throw new Error(`invalid allow-list entry "${entry}" (expected an IP or CIDR)`);
    if (prefix === undefined) allow.addAddress(net, family(net));
    else allow.addSubnet(net, Number(prefix), family(net));
  }
  const allowed = (ip: string) => {
    if (!isPrivateAddress(ip)) return true;
    const v4 = mappedV4(ip);
    return allow.check(ip, family(ip)) || (v4 !== undefined && allow.check(v4, 'ipv4'));
  };
  const refuse = (host: string, ip: string) =>
    new SsrfError(
      `refusing webhook destination host "${host}": it resolves to ${ip}, a private/loopback/link-local address; ` +
        'add it to webhooks.allowPrivateAddresses (CLAUDE_OTEL_SINK_WEBHOOK_ALLOW) to allow it',
    );

  const lookup = ((hostname: string, options: unknown, callback: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (
      err: Error | null, address?: unknown, family?: number,
    ) => void;
    const opts = (typeof options === 'object' && options ? options : {}) as { all?: boolean; family?: number };
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return cb(err);
      const bad = addresses.find((a) => !allowed(a.address));
      if (bad) return cb(refuse(hostname, bad.address));
      if (opts.all) return cb(null, addresses);
      const first = addresses[0];
      if (!first) return cb(new Error(`no address for ${hostname}`));
      cb(null, first.address, first.family);
    });
  }) as unknown as typeof dnsLookup;

  return {
    allowed,
    lookup,
    async check(url: string) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const ips = isIP(host) ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
      const bad = ips.find((ip) => !allowed(ip));
      if (bad) throw refuse(host, bad);
      return ips;
    },
  };
}
