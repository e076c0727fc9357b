/**
 * Which addresses a credential check may connect to for a namespace-scoped config (the SSRF rule).
 * A namespace's `serverAddress` is written by anyone who may create a Secret there; our pod must not
 * reach for them what they cannot reach themselves. Refused unless the allowlist names them:
 * loopback, link-local (cloud metadata at 169.254.169.254 included), private (RFC 1918, fc00::/7),
 * CGNAT (100.64/10), unspecified, multicast, reserved, and the cluster's own names and API address.
 * The check runs over the addresses a host name resolves to; the probe then connects to one of
 * exactly those addresses, so a second DNS answer cannot slip another address in.
 */
import { BlockList, isIP } from 'node:net';

export type AddressDecision = { allowed: true } | { allowed: false; reason: string };

export interface AddressPolicy {
  /** Whether the host name itself may be asked for at all (before any DNS look-up). */
  checkHost(hostname: string): AddressDecision;
  /** Whether `address`, which `hostname` resolved to, may be connected to. */
  checkAddress(hostname: string, address: string): AddressDecision;
}

const REFUSED_V4: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['169.254.0.0', 16, 'link-local'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const REFUSED_V6: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fe80::', 10, 'link-local'],
  ['fc00::', 7, 'private'],
  ['ff00::', 8, 'multicast'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  // 6to4 embeds an IPv4 address; deprecated, so refused outright rather than decoded.
  ['2002::', 16, '6to4'],
];
/** NAT64's well-known prefix: the last 32 bits are an IPv4 address, judged as such. */
const NAT64 = subnet('64:ff9b::', 96, 'ipv6');
/** Names that only mean something inside the cluster (or this pod). */
const CLUSTER_NAME_SUFFIXES = ['.svc', '.svc.cluster.local', '.cluster.local', '.local', '.internal'];

export interface AddressPolicyOptions {
  /** CREDENTIAL_CHECK_ALLOW: CIDRs, IP addresses, host names and `*.domain` wildcards. */
  allow?: readonly string[];
  /** Extra refused ranges (the cluster's own, when they are public), as CIDRs or addresses. */
  deny?: readonly string[];
}

export class AllowlistError extends Error {
  override readonly name = 'AllowlistError';
}

/** Parses the allowlist's entries; throws AllowlistError naming the bad entry. */
export function parseAllowlist(entries: readonly string[]): { cidrs: BlockList; hosts: string[]; wildcards: string[] } {
  const cidrs = new BlockList();
  const hosts: string[] = [];
  const wildcards: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const cidr = parseCidr(entry);
    if (cidr) {
      cidrs.addSubnet(cidr.address, cidr.prefix, cidr.family);
    } else if (/^\*\.[a-z0-9.-]+$/.test(entry)) {
      wildcards.push(entry.slice(1));
    } else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(entry) && !/^[0-9.]+$/.test(entry)) {
      hosts.push(entry);
    } else {
      throw new AllowlistError(`"${raw}" is neither a CIDR, an IP address nor a host name`);
    }
  }
  return { cidrs, hosts, wildcards };
}

export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const allow = parseAllowlist(options.allow ?? []);
  // One list per range, so a refusal can say which kind of address it was.
  const kinds: Array<{ list: BlockList; kind: string }> = [];
  for (const [address, prefix, kind] of REFUSED_V4) kinds.push({ list: subnet(address, prefix, 'ipv4'), kind });
  for (const [address, prefix, kind] of REFUSED_V6) kinds.push({ list: subnet(address, prefix, 'ipv6'), kind });
  for (const entry of options.deny ?? []) {
    const cidr = parseCidr(entry.trim());
    if (cidr) kinds.push({ list: subnet(cidr.address, cidr.prefix, cidr.family), kind: "the cluster's own range" });
  }

  const hostAllowed = (hostname: string): boolean =>
    allow.hosts.includes(hostname) || allow.wildcards.some((suffix) => hostname.endsWith(suffix) && hostname.length > suffix.length);

  return {
    checkHost(hostname) {
      const name = hostname.toLowerCase().replace(/\.$/, '');
      if (hostAllowed(name) || isIP(name) !== 0) return { allowed: true };
      if (name === 'localhost' || name.endsWith('.localhost')) return { allowed: false, reason: `host ${name} is loopback` };
      const suffix = CLUSTER_NAME_SUFFIXES.find((s) => name.endsWith(s));
      if (suffix !== undefined || !name.includes('.')) return { allowed: false, reason: `host ${name} is a cluster-internal name` };
      return { allowed: true };
    },
    checkAddress(hostname, address) {
      const name = hostname.toLowerCase().replace(/\.$/, '');
      if (hostAllowed(name)) return { allowed: true };
      const family = isIP(address);
      if (family === 0) return { allowed: false, reason: `${address} is not an IP address` };
      // An IPv4-mapped or NAT64 IPv6 address is judged as its IPv4 address.
      const mapped = family === 6 ? (/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? (NAT64.check(address, 'ipv6') ? embeddedIpv4(address) : undefined)) : undefined;
      const ip = mapped ?? address;
      const type = mapped !== undefined || family === 4 ? 'ipv4' : 'ipv6';
      if (allow.cidrs.check(ip, type)) return { allowed: true };
      const hit = kinds.find(({ list }) => list.check(ip, type));
      if (hit) {
        const shown = name === address ? address : `${name} resolves to ${address}`;
        return { allowed: false, reason: `${shown} (${hit.kind}), refused for namespace-scoped configs unless CREDENTIAL_CHECK_ALLOW names it` };
      }
      return { allowed: true };
    },
  };
}

function subnet(address: string, prefix: number, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return list;
}

/** The last 32 bits of an IPv6 address, as dotted IPv4. */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  if (dotted !== undefined) return dotted;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const groups = tail === '' && !address.includes('::') ? head.split(':') : [...head.split(':').filter(Boolean), ...Array(8).fill('0'), ...tail.split(':').filter(Boolean)].slice(-8);
  const high = parseInt(groups[6] ?? '', 16);
  const low = parseInt(groups[7] ?? '', 16);
  if (Number.isNaN(high) || Number.isNaN(low)) return undefined;
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, extra] = text.split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
