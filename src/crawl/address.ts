import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import net from 'node:net';

/** Error code of a refused address: fetch.ts maps it to the `blocked_address` crawl error. */
export const BLOCKED_ADDRESS = 'ECAF_BLOCKED_ADDRESS';

/** IPv4 ranges a crawler must not reach by default: [first octets as a 32-bit number, prefix length]. */
const BLOCKED_V4: [number, number][] = [
  [v4('0.0.0.0'), 8], // "this network"
  [v4('10.0.0.0'), 8], // private
  [v4('100.64.0.0'), 10], // carrier-grade NAT
  [v4('127.0.0.0'), 8], // loopback
  [v4('169.254.0.0'), 16], // link-local (cloud metadata lives here)
  [v4('172.16.0.0'), 12], // private
  [v4('192.0.0.0'), 24], // IETF protocol assignments
  [v4('192.168.0.0'), 16], // private
  [v4('198.18.0.0'), 15], // benchmarking
  [v4('224.0.0.0'), 4], // multicast
  [v4('240.0.0.0'), 4], // reserved, broadcast
];

function v4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** The 8 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function v6Groups(text: string): number[] {
  let s = text.split('%')[0]!; // zone id
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4(dotted[1]!);
    s = s.slice(0, -dotted[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** Why `ip` (a literal IPv4 or IPv6 address) must not be crawled by default, or undefined. */
export function blockedAddressReason(ip: string): string | undefined {
  const family = net.isIP(ip);
  if (family === 4) {
    const n = v4(ip);
    for (const [base, bits] of BLOCKED_V4) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if (((n & mask) >>> 0) === base) return `${ip} is a loopback, private, link-local, multicast or reserved address`;
    }
    return undefined;
  }
  if (family !== 6) return `${ip} is not an IP address`;
  const g = v6Groups(ip);
  const first = g[0]!;
  if (g.every((x) => x === 0)) return `${ip} is the unspecified address`;
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return `${ip} is the loopback address`;
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judge the embedded IPv4 address
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = first === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (mapped || nat64) return blockedAddressReason(`${g[6]! >>> 8}.${g[6]! & 0xff}.${g[7]! >>> 8}.${g[7]! & 0xff}`);
  if ((first & 0xfe00) === 0xfc00) return `${ip} is a unique-local (private) address`;
  if ((first & 0xffc0) === 0xfe80) return `${ip} is a link-local address`;
  if ((first & 0xff00) === 0xff00) return `${ip} is a multicast address`;
  return undefined;
}

export class BlockedAddressError extends Error {
  readonly code = BLOCKED_ADDRESS;
  constructor(host: string, reason: string) {
    super(`${host}: ${reason}`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` for net.connect that refuses hosts resolving to a blocked address. Checking the
 * address the socket really connects to (not a separate lookup) leaves no DNS-rebinding gap.
 */
export function guardedLookup(hostname: string, options: LookupOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    for (const a of addresses) {
      const reason = blockedAddressReason(a.address);
      if (reason) return callback(new BlockedAddressError(hostname, reason), '');
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '');
    callback(null, first.address, first.family);
  });
}
