// ClusterIP and NodePort allocation for Services, safe across API servers sharing one
// datastore. Every allocated value is a storage key of its own under RANGES_PREFIX, made
// with the storage's atomic create (the kts counterpart of upstream's networking.k8s.io
// IPAddress objects): the datastore, not this process, decides who holds an address. The
// in-memory view (this process's allocations plus a watch of the keys) only steers the
// random choice away from values known to be taken; a stale view costs a retry, never a
// duplicate. Random allocation prefers the upper part of each range and leaves the lower
// band for values users pick by hand (upstream's static/dynamic split), e.g. the DNS
// service's 10.43.0.10. Keys whose Service is gone are the repair loop's business
// (service-allocation-repair.ts).
import { MemoryStorage } from '../../storage/memory.js';
import { isStorageError, type Storage, type Watch, type WatchEvent } from '../../storage/storage.js';

/** Storage prefix of every kts allocation key; no resource's keys live under it. */
export const RANGES_PREFIX = '/registry/kts/ranges/';
const IP_PREFIX = `${RANGES_PREFIX}serviceips/`;
const PORT_PREFIX = `${RANGES_PREFIX}servicenodeports/`;
const RESYNC_DELAY_MS = 1000;

/** Why an allocation failed; `full` is a server error upstream, the others are invalid values. */
export type AllocationFailure = 'allocated' | 'notInRange' | 'full';

/** Thrown when an allocation request cannot be met; `message` is upstream's wording. */
export class AllocationError extends Error {
  constructor(
    message: string,
    /** Which failure this is. */
    readonly reason: AllocationFailure,
  ) {
    super(message);
    this.name = 'AllocationError';
  }
}

/** The Service an allocation key belongs to (the key's value). */
export interface AllocationOwner {
  namespace: string;
  name: string;
  uid: string;
}

/** What an allocation key stands for. */
export type AllocationRef = { kind: 'ip'; ip: string } | { kind: 'port'; port: number };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a key's value. */
export function encodeOwner(o: AllocationOwner): Uint8Array {
  return enc.encode(JSON.stringify({ namespace: o.namespace, name: o.name, uid: o.uid }));
}

/** Decodes a key's value; undefined when it is not an owner record. */
export function decodeOwner(value: Uint8Array | undefined): AllocationOwner | undefined {
  if (value === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(dec.decode(value));
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    if (typeof r.uid !== 'string') return undefined;
    return {
      namespace: typeof r.namespace === 'string' ? r.namespace : '',
      name: typeof r.name === 'string' ? r.name : '',
      uid: r.uid,
    };
  } catch {
    return undefined;
  }
}

function ipToInt(ip: string): number | undefined {
  const p = ip.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const s of p) {
    if (!/^\d{1,3}$/.test(s)) return undefined;
    const x = Number.parseInt(s, 10);
    if (x > 255) return undefined;
    n = n * 256 + x;
  }
  return n;
}

function intToIP(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The view of one range: values known held (by owner uid, '' when unknown) and values this
 * process is trying to claim right now. Both are hints for the random choice only.
 */
class RangeView {
  used = new Map<number, string>();
  private readonly pending = new Set<number>();

  constructor(
    readonly min: number,
    readonly max: number,
    /** Random allocation starts here while free values remain above it. */
    private readonly dynamicFrom: number,
  ) {}

  inRange(v: number): boolean {
    return Number.isInteger(v) && v >= this.min && v <= this.max;
  }

  /** A random value free in the view, reserved as pending; undefined when none is. */
  pick(): number | undefined {
    const band = (lo: number, hi: number): number | undefined => {
      const size = hi - lo + 1;
      if (size <= 0) return undefined;
      const start = Math.floor(Math.random() * size);
      for (let i = 0; i < size; i++) {
        const v = lo + ((start + i) % size);
        if (!this.used.has(v) && !this.pending.has(v)) {
          this.pending.add(v);
          return v;
        }
      }
      return undefined;
    };
    return band(this.dynamicFrom, this.max) ?? band(this.min, Math.min(this.dynamicFrom - 1, this.max));
  }

  settle(v: number, holder: string | undefined): void {
    this.pending.delete(v);
    if (holder === undefined) this.used.delete(v);
    else this.used.set(v, holder);
  }
}

/** Options of `ServiceAllocator`. */
export interface ServiceAllocatorOptions {
  /** Where allocation keys live (default: a private in-memory store, for one process). */
  storage?: Storage;
  /** Failures of background work (releases, the key watch); default: ignored. */
  onError?: (err: unknown) => void;
}

/** Allocates ClusterIPs from the service CIDR and NodePorts from their range. */
export class ServiceAllocator {
  /** The service CIDR as configured. */
  readonly cidr: string;
  /** Where allocation keys live. */
  readonly storage: Storage;
  private readonly ips: RangeView;
  private readonly ports: RangeView;
  private readonly base: number;
  private readonly onError: (err: unknown) => void;
  private readonly inflight = new Set<Promise<void>>();
  private watchAbort: AbortController | undefined;
  private watchLoop: Promise<void> | undefined;

  constructor(cidr: string, nodePorts: [number, number], opts: ServiceAllocatorOptions = {}) {
    this.cidr = cidr;
    const [ip, bitsStr] = cidr.split('/');
    const bits = Number.parseInt(bitsStr ?? '', 10);
    const base = ipToInt(ip ?? '');
    if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30)
      throw new Error(`invalid service CIDR ${cidr}`);
    const size = 2 ** (32 - bits);
    this.base = base - (base % size);
    // Offsets 0 and size-1 are the network and broadcast addresses.
    const staticBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);
    this.ips = new RangeView(1, size - 2, Math.min(staticBand, size - 2));
    const [lo, hi] = nodePorts;
    const portBand = Math.min(Math.max(16, Math.floor((hi - lo + 1) / 32)), 128);
    this.ports = new RangeView(lo, hi, lo + portBand);
    this.storage = opts.storage ?? new MemoryStorage();
    this.onError = opts.onError ?? (() => {});
  }

  /** The n-th address of the range (1 = the `kubernetes` service, 10 = cluster DNS). */
  ipAt(n: number): string {
    return intToIP(this.base + n);
  }

  private offsetOf(ip: string): number | undefined {
    const n = ipToInt(ip);
    return n === undefined ? undefined : n - this.base;
  }

  /** True when ip lies in the service range. */
  contains(ip: string): boolean {
    const o = this.offsetOf(ip);
    return o !== undefined && this.ips.inRange(o);
  }

  /** True when port lies in the node port range. */
  portInRange(port: number): boolean {
    return this.ports.inRange(port);
  }

  /** The storage key recording an allocation. */
  keyOf(ref: AllocationRef): string {
    return ref.kind === 'ip' ? `${IP_PREFIX}${ref.ip}` : `${PORT_PREFIX}${ref.port}`;
  }

  /** What an allocation key stands for; undefined for foreign keys. */
  parseKey(key: string): AllocationRef | undefined {
    if (key.startsWith(IP_PREFIX)) {
      const ip = key.slice(IP_PREFIX.length);
      return ipToInt(ip) === undefined ? undefined : { kind: 'ip', ip };
    }
    if (key.startsWith(PORT_PREFIX)) {
      const s = key.slice(PORT_PREFIX.length);
      return /^\d+$/.test(s) ? { kind: 'port', port: Number.parseInt(s, 10) } : undefined;
    }
    return undefined;
  }

  /**
   * Allocates `ip` for `owner`, or a free one when undefined; returns it. A value the owner
   * already holds is granted again (one Service may name it twice). A dry run checks and
   * picks but writes nothing.
   */
  async allocateIP(owner: AllocationOwner, ip?: string, dryRun = false): Promise<string> {
    if (ip === undefined) {
      const o = await this.allocateNext(this.ips, (v) => ({ kind: 'ip', ip: this.ipAt(v) }), owner, dryRun);
      if (o === undefined) throw new AllocationError('range is full', 'full');
      return this.ipAt(o);
    }
    const o = this.offsetOf(ip);
    if (o === undefined || !this.ips.inRange(o))
      throw new AllocationError(
        `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
        'notInRange',
      );
    if (!(await this.claim(this.ips, o, { kind: 'ip', ip }, owner, dryRun, true)))
      throw new AllocationError(`failed to allocate IP ${ip}: provided IP is already allocated`, 'allocated');
    return ip;
  }

  /** Allocates `port` for `owner`, or a free one when undefined (see `allocateIP`). */
  async allocatePort(owner: AllocationOwner, port?: number, dryRun = false): Promise<number> {
    if (port === undefined) {
      const p = await this.allocateNext(this.ports, (v) => ({ kind: 'port', port: v }), owner, dryRun);
      if (p === undefined) throw new AllocationError('range is full', 'full');
      return p;
    }
    if (!this.ports.inRange(port))
      throw new AllocationError(
        `provided port is not in the valid range. The range of valid ports is ${this.ports.min}-${this.ports.max}`,
        'notInRange',
      );
    if (!(await this.claim(this.ports, port, { kind: 'port', port }, owner, dryRun, true)))
      throw new AllocationError('provided port is already allocated', 'allocated');
    return port;
  }

  // Random candidates from the view until one is created; each KeyExists teaches the view.
  private async allocateNext(
    view: RangeView,
    ref: (v: number) => AllocationRef,
    owner: AllocationOwner,
    dryRun: boolean,
  ): Promise<number | undefined> {
    for (;;) {
      const v = view.pick();
      if (v === undefined) return undefined;
      if (await this.claim(view, v, ref(v), owner, dryRun, false)) return v;
    }
  }

  // Creates the key (`v` may already be pending in the view). True when the owner holds it.
  private async claim(
    view: RangeView,
    v: number,
    ref: AllocationRef,
    owner: AllocationOwner,
    dryRun: boolean,
    sameOwnerOK: boolean,
  ): Promise<boolean> {
    const key = this.keyOf(ref);
    const before = view.used.get(v);
    if (dryRun) {
      const cur = await this.storage.get(key).finally(() => view.settle(v, before));
      return cur === undefined || (sameOwnerOK && decodeOwner(cur.value)?.uid === owner.uid);
    }
    try {
      await this.storage.create(key, encodeOwner(owner));
      view.settle(v, owner.uid);
      return true;
    } catch (e) {
      if (!isStorageError(e, 'KeyExists')) {
        view.settle(v, before);
        throw e;
      }
      const cur = e.current ?? (await this.storage.get(key).catch(() => undefined));
      const holder = decodeOwner(cur?.value)?.uid ?? '';
      view.settle(v, holder);
      return sameOwnerOK && holder === owner.uid;
    }
  }

  /** Gives an IP back if `ownerUid` still holds it; never rejects (failures go to onError). */
  releaseIP(ip: string, ownerUid: string): Promise<void> {
    const o = this.offsetOf(ip);
    if (o === undefined) return Promise.resolve();
    return this.release(this.ips, o, { kind: 'ip', ip }, ownerUid);
  }

  /** Gives a node port back if `ownerUid` still holds it; never rejects. */
  releasePort(port: number, ownerUid: string): Promise<void> {
    return this.release(this.ports, port, { kind: 'port', port }, ownerUid);
  }

  private release(view: RangeView, v: number, ref: AllocationRef, ownerUid: string): Promise<void> {
    const key = this.keyOf(ref);
    const p = (async () => {
      // A compare-and-swap delete: a key taken over by another Service meanwhile stays.
      for (let attempt = 0; attempt < 5; attempt++) {
        const cur = await this.storage.get(key);
        if (cur === undefined || decodeOwner(cur.value)?.uid !== ownerUid) {
          if (view.used.get(v) === ownerUid) view.used.delete(v);
          return;
        }
        try {
          await this.storage.delete(key, cur.modRevision);
          if (view.used.get(v) === ownerUid) view.used.delete(v);
          return;
        } catch (e) {
          if (isStorageError(e, 'NotFound')) return;
          if (!isStorageError(e, 'Conflict')) throw e;
        }
      }
    })().catch((err: unknown) => this.onError(err));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  /** Records a value as held in the view only (nothing is written). */
  markUsed(ref: AllocationRef, ownerUid = ''): void {
    if (ref.kind === 'ip') {
      const o = this.offsetOf(ref.ip);
      if (o !== undefined && this.ips.inRange(o)) this.ips.used.set(o, ownerUid);
    } else if (this.ports.inRange(ref.port)) this.ports.used.set(ref.port, ownerUid);
  }

  /** True when the view knows `ref` as held. */
  isUsed(ref: AllocationRef): boolean {
    if (ref.kind === 'port') return this.ports.used.has(ref.port);
    const o = this.offsetOf(ref.ip);
    return o !== undefined && this.ips.used.has(o);
  }

  /** Resolves once every release started so far has finished. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Loads the view from the allocation keys and keeps it current with a watch. */
  async start(): Promise<void> {
    if (this.watchAbort) return;
    const ac = new AbortController();
    this.watchAbort = ac;
    const rev = await this.resync();
    this.watchLoop = this.follow(rev, ac.signal);
  }

  /** Ends the watch and waits for pending releases. */
  async stop(): Promise<void> {
    this.watchAbort?.abort();
    this.watchAbort = undefined;
    await this.watchLoop;
    this.watchLoop = undefined;
    await this.settled();
  }

  private async resync(): Promise<number> {
    const ips = new Map<number, string>();
    const ports = new Map<number, string>();
    let cont: string | undefined;
    let revision = 0;
    do {
      const page = await this.storage.list(RANGES_PREFIX, {
        limit: 1000,
        ...(cont ? { continue: cont } : {}),
      });
      revision = page.revision;
      for (const kv of page.items) this.record(kv.key, decodeOwner(kv.value)?.uid ?? '', ips, ports);
      cont = page.continue;
    } while (cont);
    this.ips.used = ips;
    this.ports.used = ports;
    return revision;
  }

  private record(
    key: string,
    holder: string | undefined,
    ips: Map<number, string>,
    ports: Map<number, string>,
  ): void {
    const ref = this.parseKey(key);
    if (!ref) return;
    const v = ref.kind === 'ip' ? this.offsetOf(ref.ip) : ref.port;
    if (v === undefined) return;
    const m = ref.kind === 'ip' ? ips : ports;
    if (holder === undefined) m.delete(v);
    else m.set(v, holder);
  }

  private apply(ev: WatchEvent): void {
    const holder = ev.type === 'DELETED' ? undefined : (decodeOwner(ev.value)?.uid ?? '');
    this.record(ev.key, holder, this.ips.used, this.ports.used);
  }

  private async follow(fromRevision: number, signal: AbortSignal): Promise<void> {
    let from = fromRevision;
    while (!signal.aborted) {
      let w: Watch | undefined;
      try {
        w = this.storage.watch(RANGES_PREFIX, { fromRevision: from, signal });
        for await (const ev of w) {
          this.apply(ev);
          from = ev.modRevision;
        }
        if (signal.aborted) return;
      } catch (e) {
        if (signal.aborted) return;
        this.onError(e);
      } finally {
        w?.close();
      }
      // The watch ended under us (compaction, a lost connection): re-list, then watch again.
      await pause(RESYNC_DELAY_MS, signal);
      if (!signal.aborted) {
        try {
          from = await this.resync();
        } catch (err) {
          this.onError(err);
        }
      }
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    t.unref();
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
