// IPv4 CIDR arithmetic for the pod network: the node's gateway address is the first host
// address of its podCIDR, and routes are compared in canonical form (network address +
// prefix), so `10.42.1.7/24` and `10.42.1.0/24` name the same route.

/** The cluster CIDR pods draw their addresses from (k3s's default). */
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';

/** The service CIDR ClusterIPs are allocated from (k3s's default). */
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';

/** A parsed IPv4 network. */
export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  network: number;
  /** Prefix length, 0–32. */
  prefix: number;
}

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number. */
export function parseIpv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address: ${JSON.stringify(s)}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255)
      throw new Error(`invalid IPv4 address: ${JSON.stringify(s)}`);
    n = n * 256 + Number(p);
  }
  return n;
}

/** Formats an unsigned 32-bit number as a dotted-quad IPv4 address. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `a.b.c.d/n`, masking host bits away. */
export function parseCidr(s: string): Ipv4Cidr {
  const slash = s.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR: ${JSON.stringify(s)}`);
  const prefixText = s.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,2}$/.test(prefixText) || prefix > 32) throw new Error(`invalid CIDR: ${JSON.stringify(s)}`);
  return { network: (parseIpv4(s.slice(0, slash)) & mask(prefix)) >>> 0, prefix };
}

/** The canonical text of a CIDR (`10.42.1.0/24`). */
export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

/** `s` in canonical form; a bare address is taken as a /32. */
export function canonicalCidr(s: string): string {
  return formatCidr(parseCidr(s.includes('/') ? s : `${s}/32`));
}

/** Whether `ip` lies inside `cidr`. */
export function cidrContains(cidr: string | Ipv4Cidr, ip: string): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  return (parseIpv4(ip) & mask(c.prefix)) >>> 0 === c.network;
}

/** Whether two networks share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const p = Math.min(x.prefix, y.prefix);
  return (x.network & mask(p)) >>> 0 === (y.network & mask(p)) >>> 0;
}

/** The address `offset` places after the network address (1 = the gateway by convention). */
export function nthAddress(cidr: string, offset: number): string {
  const c = parseCidr(cidr);
  const size = 2 ** (32 - c.prefix);
  if (offset < 0 || offset >= size) throw new Error(`offset ${offset} is outside ${cidr}`);
  return formatIpv4((c.network + offset) >>> 0);
}

/** The node's gateway address on its bridge: the first host address of its podCIDR. */
export function gatewayAddress(podCIDR: string): string {
  return nthAddress(podCIDR, 1);
}

/** Whether a string is a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
  try {
    parseIpv4(s);
    return true;
  } catch {
    return false;
  }
}
