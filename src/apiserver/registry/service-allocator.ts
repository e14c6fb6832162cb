// ClusterIP and NodePort allocation for Services. State is in memory and rebuilt from the
// stored Services at start-up (upstream's "repair" controllers do the same against their
// bitmaps), so nothing besides the Services themselves needs persisting. Random allocation
// prefers the upper part of each range and leaves the lower band for addresses users pick
// by hand (upstream's static/dynamic split), e.g. the DNS service's 10.43.0.10.

/** Thrown when an allocation request cannot be met. */
export class AllocationError extends Error {}

function ipToInt(ip: string): number {
  const p = ip.split('.').map((x) => Number.parseInt(x, 10));
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new AllocationError(`invalid IP ${ip}`);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

function intToIP(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A set of integers within [min, max] with random and specific allocation. */
class RangeAllocator {
  private readonly used = new Set<number>();
  constructor(
    readonly min: number,
    readonly max: number,
    /** Random allocation starts here when free values remain above it. */
    private readonly dynamicFrom: number,
  ) {}

  has(v: number): boolean {
    return this.used.has(v);
  }

  allocate(v: number): void {
    if (v < this.min || v > this.max) throw new AllocationError('out of range');
    if (this.used.has(v)) throw new AllocationError('already allocated');
    this.used.add(v);
  }

  allocateNext(): number {
    const tryBand = (lo: number, hi: number): number | undefined => {
      const size = hi - lo + 1;
      if (size <= 0) return undefined;
      const start = lo + Math.floor(Math.random() * size);
      for (let i = 0; i < size; i++) {
        const v = lo + ((start - lo + i) % size);
        if (!this.used.has(v)) {
          this.used.add(v);
          return v;
        }
      }
      return undefined;
    };
    const v = tryBand(this.dynamicFrom, this.max) ?? tryBand(this.min, this.dynamicFrom - 1);
    if (v === undefined) throw new AllocationError('range is full');
    return v;
  }

  release(v: number): void {
    this.used.delete(v);
  }
}

/** Allocates ClusterIPs from the service CIDR and NodePorts from their range. */
export class ServiceAllocator {
  private readonly ips: RangeAllocator;
  private readonly ports: RangeAllocator;
  private readonly base: number;
  readonly cidr: string;

  constructor(cidr: string, nodePorts: [number, number]) {
    this.cidr = cidr;
    const [ip, bitsStr] = cidr.split('/');
    const bits = Number.parseInt(bitsStr ?? '', 10);
    if (!ip || !Number.isInteger(bits) || bits < 8 || bits > 30)
      throw new AllocationError(`invalid service CIDR ${cidr}`);
    const size = 2 ** (32 - bits);
    this.base = ipToInt(ip) & ~(size - 1);
    // Skip the network address and the broadcast address.
    const staticBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);
    this.ips = new RangeAllocator(1, size - 2, Math.min(staticBand, size - 2));
    const [lo, hi] = nodePorts;
    const portBand = Math.min(Math.max(16, Math.floor((hi - lo + 1) / 32)), 128);
    this.ports = new RangeAllocator(lo, hi, lo + portBand);
  }

  /** The n-th address of the range (1 = the `kubernetes` service, 10 = cluster DNS). */
  ipAt(n: number): string {
    return intToIP(this.base + n);
  }

  private offsetOf(ip: string): number {
    return ipToInt(ip) - this.base;
  }

  /** True when ip lies in the service range. */
  contains(ip: string): boolean {
    try {
      const o = this.offsetOf(ip);
      return o >= this.ips.min && o <= this.ips.max;
    } catch {
      return false;
    }
  }

  /** Allocates `ip`, or a free one when undefined; returns it. Throws AllocationError with upstream's wording. */
  allocateIP(ip?: string): string {
    if (ip === undefined) {
      try {
        return intToIP(this.base + this.ips.allocateNext());
      } catch {
        throw new AllocationError('range is full');
      }
    }
    if (!this.contains(ip))
      throw new AllocationError(
        `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
      );
    try {
      this.ips.allocate(this.offsetOf(ip));
    } catch {
      throw new AllocationError(`failed to allocate IP ${ip}: provided IP is already allocated`);
    }
    return ip;
  }

  /** Releases an IP (unknown or foreign IPs are ignored). */
  releaseIP(ip: string): void {
    if (this.contains(ip)) this.ips.release(this.offsetOf(ip));
  }

  /** Allocates `port`, or a free one when undefined. */
  allocatePort(port?: number): number {
    if (port === undefined) {
      try {
        return this.ports.allocateNext();
      } catch {
        throw new AllocationError('range is full');
      }
    }
    if (port < this.ports.min || port > this.ports.max) {
      throw new AllocationError(
        `provided port is not in the valid range. The range of valid ports is ${this.ports.min}-${this.ports.max}`,
      );
    }
    if (this.ports.has(port)) throw new AllocationError('provided port is already allocated');
    this.ports.allocate(port);
    return port;
  }

  /** Releases a node port. */
  releasePort(port: number): void {
    if (port >= this.ports.min && port <= this.ports.max) this.ports.release(port);
  }
}
