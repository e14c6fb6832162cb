// The repair loop of the Service allocation keys (upstream's ClusterIP and NodePort repair
// controllers, pkg/registry/core/service/{ipallocator,portallocator}/controller). It
// reconciles the keys with the Services in both directions:
// - a Service using a ClusterIP or node port without a key gets one (clusters made before
//   the keys existed, and values whose key a crash or an old release lost);
// - a key no Service uses any more (a crash between allocation and the Service write, an
//   update that failed after allocating) is deleted once it has been seen unused, at the
//   same mod-revision, for a grace period longer than any create can be in flight.
// Every API server runs it without leader election: creates fail harmlessly on KeyExists
// and deletes are compare-and-swap on the mod-revision the key was judged at, so two loops
// (or a loop and a request) racing on one key cannot remove a key that is in use.
import { isStorageError, type KeyValue } from '../../storage/storage.js';
import type { KObject } from './object.js';
import {
  type AllocationOwner,
  type AllocationRef,
  decodeOwner,
  encodeOwner,
  RANGES_PREFIX,
  type ServiceAllocator,
} from './service-allocator.js';
import { heldClusterIP, heldNodePorts } from './service-strategy.js';

/** Upstream's repair interval. */
export const DEFAULT_REPAIR_INTERVAL_MS = 3 * 60_000;
/** How long a key must stay unused before it is deleted. */
export const DEFAULT_LEAK_GRACE_MS = 60_000;

/** Options of `ServiceAllocationRepair`. */
export interface ServiceAllocationRepairOptions {
  intervalMs?: number;
  graceMs?: number;
  /** Milliseconds since the epoch (tests drive it). */
  now?: () => number;
  /** Failures of a background round; the next round retries. */
  onError?: (err: unknown) => void;
}

/** What one round did. */
export interface RepairResult {
  /** Keys created for Services that used a value without one. */
  created: string[];
  /** Leaked keys deleted. */
  released: string[];
  /** Keys unused now but still inside their grace period. */
  suspected: string[];
  /** Values two Services use at once (made before the keys existed); left for a human, as upstream. */
  conflicts: string[];
}

interface Suspect {
  modRevision: number;
  since: number;
}

/** Reconciles allocation keys with Services, at start and periodically. */
export class ServiceAllocationRepair {
  private readonly intervalMs: number;
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private readonly suspects = new Map<string, Suspect>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly alloc: ServiceAllocator,
    /** Every stored Service, read consistently (not from a possibly stale cache). */
    private readonly listServices: () => Promise<KObject[]>,
    opts: ServiceAllocationRepairOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_REPAIR_INTERVAL_MS;
    this.graceMs = opts.graceMs ?? DEFAULT_LEAK_GRACE_MS;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => {});
  }

  /** Runs one round now, then one every interval until `stop`. */
  async start(): Promise<void> {
    await this.runOnce().catch((e: unknown) => this.onError(e));
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.runOnce().catch((e: unknown) => this.onError(e));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** One reconciliation round. */
  runOnce(): Promise<RepairResult> {
    const p = this.round();
    this.running = p;
    void p
      .finally(() => {
        if (this.running === p) this.running = undefined;
      })
      .catch(() => {});
    return p;
  }

  private async round(): Promise<RepairResult> {
    const res: RepairResult = { created: [], released: [], suspected: [], conflicts: [] };
    // Keys first, Services second: a Service written between the two reads is seen, so a
    // key is judged unused only when its Service really was absent after the key existed.
    const keys = await this.listKeys();
    const wanted = new Map<string, AllocationOwner>();
    for (const svc of await this.listServices()) {
      const m = svc.metadata ?? {};
      const owner = { namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '' };
      const refs: AllocationRef[] = [];
      const ip = heldClusterIP(svc);
      if (ip !== '' && this.alloc.contains(ip)) refs.push({ kind: 'ip', ip });
      for (const port of heldNodePorts(svc))
        if (this.alloc.portInRange(port)) refs.push({ kind: 'port', port });
      for (const ref of refs) {
        const key = this.alloc.keyOf(ref);
        const other = wanted.get(key);
        if (other && other.uid !== owner.uid) {
          res.conflicts.push(
            `${describe(ref)} is used by ${other.namespace}/${other.name} and ${owner.namespace}/${owner.name}`,
          );
          continue;
        }
        wanted.set(key, owner);
        this.alloc.markUsed(ref, owner.uid);
      }
    }
    for (const [key, owner] of wanted) {
      if (keys.has(key)) continue;
      try {
        await this.alloc.storage.create(key, encodeOwner(owner));
        res.created.push(key);
      } catch (e) {
        // Someone allocated it since the list: the next round judges the new key.
        if (!isStorageError(e, 'KeyExists')) throw e;
      }
    }
    for (const [key, kv] of keys) {
      const holder = decodeOwner(kv.value);
      const user = wanted.get(key);
      if (holder !== undefined && user !== undefined && user.uid === holder.uid) {
        this.suspects.delete(key);
        continue;
      }
      if (holder !== undefined && user !== undefined) {
        const ref = this.alloc.parseKey(key);
        res.conflicts.push(
          `${ref ? describe(ref) : key} is held by ${holder.namespace}/${holder.name} (uid ${holder.uid}) but used by ${user.namespace}/${user.name}`,
        );
      }
      const seen = this.suspects.get(key);
      const now = this.now();
      if (seen === undefined || seen.modRevision !== kv.modRevision) {
        this.suspects.set(key, { modRevision: kv.modRevision, since: now });
        res.suspected.push(key);
        continue;
      }
      if (now - seen.since < this.graceMs) {
        res.suspected.push(key);
        continue;
      }
      try {
        await this.alloc.storage.delete(key, kv.modRevision);
        res.released.push(key);
      } catch (e) {
        // Re-allocated or released since the list: nothing to do at this revision.
        if (!isStorageError(e, 'Conflict') && !isStorageError(e, 'NotFound')) throw e;
      }
      this.suspects.delete(key);
    }
    for (const key of this.suspects.keys()) if (!keys.has(key)) this.suspects.delete(key);
    return res;
  }

  private async listKeys(): Promise<Map<string, KeyValue>> {
    const out = new Map<string, KeyValue>();
    let cont: string | undefined;
    do {
      const page = await this.alloc.storage.list(RANGES_PREFIX, {
        limit: 1000,
        ...(cont ? { continue: cont } : {}),
      });
      for (const kv of page.items) if (this.alloc.parseKey(kv.key)) out.set(kv.key, kv);
      cont = page.continue;
    } while (cont);
    return out;
  }
}

function describe(ref: AllocationRef): string {
  return ref.kind === 'ip' ? `Cluster IP ${ref.ip}` : `Port ${ref.port}`;
}
