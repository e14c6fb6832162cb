// A bitmap allocator of equal-sized IPv4 subnets inside a cluster CIDR (upstream
// pkg/controller/nodeipam/ipam/cidrset): 10.42.0.0/16 with /24 per node gives 256 subnets.
// Allocation scans from just after the last allocated index, as upstream, so a released
// subnet is not immediately handed to the next node.

/** Parses dotted IPv4 into a 32-bit unsigned number. */
export function parseIPv4(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  let n = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255)
      throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
    n = n * 256 + Number(p);
  }
  return n;
}

/** Formats a 32-bit unsigned number as dotted IPv4. */
export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses `a.b.c.d/len` into its (masked) base and prefix length. */
export function parseCIDR(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  if (ip === undefined || len === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`invalid CIDR address: ${cidr}`);
  }
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(parseIPv4(ip) / size) * size, prefix };
}

/** The subnets of one cluster CIDR. */
export class CIDRSet {
  private readonly base: number;
  private readonly subnetSize: number;
  private readonly used: Uint8Array;
  private next = 0;
  /** Number of subnets the set holds. */
  readonly max: number;

  /** Splits `clusterCIDR` into subnets of `/maskSize`. */
  constructor(
    clusterCIDR: string,
    readonly maskSize: number,
  ) {
    const { base, prefix } = parseCIDR(clusterCIDR);
    if (maskSize < prefix || maskSize > 32)
      throw new Error(`invalid node CIDR mask size ${maskSize} for ${clusterCIDR}`);
    this.base = base;
    this.subnetSize = 2 ** (32 - maskSize);
    this.max = 2 ** (maskSize - prefix);
    this.used = new Uint8Array(this.max);
  }

  /** Allocates the next free subnet, or undefined when the range is full. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.max; i++) {
      const idx = (this.next + i) % this.max;
      if (this.used[idx] === 0) {
        this.used[idx] = 1;
        this.next = (idx + 1) % this.max;
        return this.cidrAt(idx);
      }
    }
    return undefined;
  }

  /** Marks a subnet used (rebuilding state from nodes); false when it is not in the set. */
  occupy(cidr: string): boolean {
    const idx = this.indexOf(cidr);
    if (idx === undefined) return false;
    this.used[idx] = 1;
    return true;
  }

  /** Frees a subnet. */
  release(cidr: string): void {
    const idx = this.indexOf(cidr);
    if (idx !== undefined) this.used[idx] = 0;
  }

  /** Subnets in use. */
  usedCount(): number {
    return this.used.reduce((n, v) => n + v, 0);
  }

  private cidrAt(idx: number): string {
    return `${formatIPv4(this.base + idx * this.subnetSize)}/${this.maskSize}`;
  }

  private indexOf(cidr: string): number | undefined {
    let parsed: { base: number; prefix: number };
    try {
      parsed = parseCIDR(cidr);
    } catch {
      return undefined;
    }
    if (parsed.prefix !== this.maskSize) return undefined;
    const idx = (parsed.base - this.base) / this.subnetSize;
    return Number.isInteger(idx) && idx >= 0 && idx < this.max ? idx : undefined;
  }
}
