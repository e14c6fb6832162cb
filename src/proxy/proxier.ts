// The proxier: takes Service and EndpointSlice events, batches them, and keeps the kernel's
// data plane equal to what a rules generator says it should be. The data plane itself is a
// `SyncEngine`: iptables (chains named KTS-*, written with iptables-restore) or nftables
// (one kts-proxy table, written with nft; see nftables.ts).
//
// Batching (upstream BoundedFrequencyRunner): events only mark Services dirty and request a
// sync; syncs start at most once per `minSyncPeriodMs`, never overlap, and a request that
// arrives during a sync is coalesced into one follow-up sync.
//
// Full vs partial (upstream's MinimizeIPTablesRestore): a full sync rewrites everything
// (in iptables mode it re-reads the kernel with iptables-save, to find stale kts chains and
// missing jump rules); it runs first, after any failure and every `syncPeriodMs`. Every
// other sync regenerates only the dirty Services and writes only what changed (typically
// one service's chains, its new endpoint chains, and in iptables mode KTS-SERVICES only if
// a service gained or lost its rules there), deleting what disappeared.

import type { Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { type Clock, realClock, type TimerHandle } from '../client/clock.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { cleanupKts, type Iptables, readKernelState } from './iptables.js';
import {
  assembleTables,
  DEFAULT_MASQUERADE_BIT,
  type RuleConfig,
  renderRestore,
  type ServicePortRules,
  servicePortRules,
  type Tables,
} from './iptables-rules.js';
import { type EndpointInfo, ProxyState, type ServicePortInfo } from './model.js';

/** The proxier's state as an engine reads it. */
export interface ProxyView {
  /** Keys of every known Service, sorted. */
  serviceKeys(): string[];
  /** The proxied ports of one Service with their endpoints. */
  servicePorts(serviceKey: string): Array<{ info: ServicePortInfo; endpoints: EndpointInfo[] }>;
}

/** What an engine reports about one sync (SyncResult without the proxier's bookkeeping). */
export interface EngineSyncResult {
  rewrittenChains: number;
  deletedChains: number;
  payloadBytes: number;
  generateMs: number;
  applyMs: number;
}

/** A data plane the Proxier drives: iptables or nftables. */
export interface SyncEngine {
  /** 'iptables' or 'nftables', for logs. */
  readonly mode: string;
  /**
   * Brings the kernel to `view`: everything when `full`, else only the Services in
   * `changed` (what was applied last is the engine's to remember). Throws on failure; the
   * proxier then forgets and follows with a full sync.
   */
  sync(view: ProxyView, full: boolean, changed: ReadonlySet<string>): Promise<EngineSyncResult>;
  /** Forgets what was applied (after a failure or a cleanup). */
  reset(): void;
  /** Removes everything this engine owns from the kernel. */
  cleanup(): Promise<{ chains: number; rules: number }>;
}

/** Options of an iptables Proxier. */
export interface ProxierOptions {
  /** The iptables data plane (used when `engine` is not given). */
  iptables?: Iptables;
  /** The data plane; default an iptables engine on `iptables`. */
  engine?: SyncEngine;
  /** This node's name: endpoints with this nodeName are local. */
  nodeName: string;
  /** The pod network; traffic from outside it to a ClusterIP is masqueraded. */
  clusterCIDR?: string;
  /** This node's IPs (LoadBalancer source-range firewall). */
  nodeIPs?: string[];
  masqueradeAll?: boolean;
  /** Bit of the packet mark requesting masquerade (default 13, mark 0x2000). */
  masqueradeBit?: number;
  /** Minimum time between two syncs (default 1 s, as upstream). */
  minSyncPeriodMs?: number;
  /** Interval of forced full syncs (default 30 s, as upstream --iptables-sync-period). */
  syncPeriodMs?: number;
  /** Delay before retrying a failed sync (default 1 s). */
  retryDelayMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** What one sync did, for logs, metrics and the benchmark. */
export interface SyncResult {
  full: boolean;
  /** Services regenerated. */
  services: number;
  /** kts chains written (declared, flushed and refilled). */
  rewrittenChains: number;
  deletedChains: number;
  payloadBytes: number;
  /** Time to compute the payload, including iptables-save on a full sync. */
  generateMs: number;
  /** Time iptables-restore or nft took (0 when nothing changed). */
  applyMs: number;
  totalMs: number;
}

/** Keeps the kernel's kts iptables chains in step with Services and EndpointSlices. */
export class Proxier {
  private readonly state: ProxyState;
  private readonly engine: SyncEngine;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly minSyncPeriodMs: number;
  private readonly syncPeriodMs: number;
  private readonly retryDelayMs: number;
  private sortedKeys: string[] | undefined;
  private needFullSync = true;
  private servicesSynced = false;
  private sliceSynced = false;
  private timer: TimerHandle | undefined;
  private periodic: TimerHandle | undefined;
  private running: Promise<SyncResult | undefined> | undefined;
  private rerun = false;
  private lastSyncStart = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly listeners: Array<(r: SyncResult) => void> = [];

  constructor(opts: ProxierOptions) {
    this.state = new ProxyState(opts.nodeName);
    if (opts.engine !== undefined) this.engine = opts.engine;
    else if (opts.iptables !== undefined) this.engine = new IptablesEngine(opts.iptables, ruleConfig(opts));
    else throw new Error('Proxier needs an engine or iptables');
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? noopLogger;
    this.minSyncPeriodMs = opts.minSyncPeriodMs ?? 1000;
    this.syncPeriodMs = opts.syncPeriodMs ?? 30_000;
    this.retryDelayMs = opts.retryDelayMs ?? 1000;
  }

  /** Starts periodic full syncs; everything stops when `signal` aborts. */
  start(signal: AbortSignal): void {
    const tick = (): void => {
      this.periodic = this.clock.setTimeout(() => {
        this.needFullSync = true;
        this.requestSync();
        tick();
      }, this.syncPeriodMs);
    };
    tick();
    signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Cancels pending syncs and timers (rules stay in place; `cleanup` removes them). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.periodic?.cancel();
    this.timer = undefined;
    this.periodic = undefined;
  }

  /** Registers a callback run after every successful sync. */
  onSync(fn: (r: SyncResult) => void): void {
    this.listeners.push(fn);
  }

  /** A Service was added or updated. */
  onServiceUpsert(svc: Service): void {
    this.state.upsertService(svc);
    this.sortedKeys = undefined;
    this.requestSync();
  }

  /** A Service was deleted. */
  onServiceDelete(namespace: string, name: string): void {
    this.state.deleteService(namespace, name);
    this.sortedKeys = undefined;
    this.requestSync();
  }

  /** An EndpointSlice was added or updated. */
  onEndpointSliceUpsert(slice: EndpointSlice): void {
    this.state.upsertEndpointSlice(slice);
    this.requestSync();
  }

  /** An EndpointSlice was deleted. */
  onEndpointSliceDelete(namespace: string, name: string): void {
    this.state.deleteEndpointSlice(namespace, name);
    this.requestSync();
  }

  /** The Service informer has delivered its initial list. */
  markServicesSynced(): void {
    this.servicesSynced = true;
    this.requestSync();
  }

  /** The EndpointSlice informer has delivered its initial list. */
  markEndpointSlicesSynced(): void {
    this.sliceSynced = true;
    this.requestSync();
  }

  /**
   * Schedules a sync, honouring the minimum sync period. Before both informers have synced
   * nothing is written: rules built from a partial list would briefly drop live services.
   */
  requestSync(): void {
    if (this.stopped || !this.servicesSynced || !this.sliceSynced) return;
    if (this.running !== undefined) {
      this.rerun = true;
      return;
    }
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastSyncStart + this.minSyncPeriodMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.syncNow();
    }, wait);
  }

  /** Runs a sync now (waiting for one in flight); resolves its result, undefined on failure. */
  async syncNow(): Promise<SyncResult | undefined> {
    while (this.running !== undefined) await this.running;
    this.timer?.cancel();
    this.timer = undefined;
    this.running = this.syncOnce();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
      if (this.rerun) {
        this.rerun = false;
        this.requestSync();
      }
    }
  }

  /** Removes everything the engine wrote from the kernel (kts proxy --cleanup). */
  async cleanup(): Promise<{ chains: number; rules: number }> {
    this.stop();
    while (this.running !== undefined) await this.running;
    const r = await this.engine.cleanup();
    this.engine.reset();
    this.needFullSync = true;
    return r;
  }

  private serviceKeys(): string[] {
    this.sortedKeys ??= this.state.serviceKeys();
    return this.sortedKeys;
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    const start = this.clock.now();
    const previousStart = this.lastSyncStart;
    this.lastSyncStart = start;
    const t0 = performance.now();
    const full = this.needFullSync;
    const changed = this.state.takeChanges();
    try {
      const view: ProxyView = {
        serviceKeys: () => this.serviceKeys(),
        servicePorts: (key) => this.state.servicePorts(key),
      };
      const r = await this.engine.sync(view, full, changed);
      this.needFullSync = false;
      // A sync that wrote nothing (say, a new endpoint still not ready) must not hold back
      // the one that follows: the minimum period exists to bound kernel writes, and the
      // change users wait for (the endpoint turning ready) comes right after.
      if (!full && r.payloadBytes === 0) this.lastSyncStart = previousStart;
      const result: SyncResult = {
        full,
        services: full ? this.serviceKeys().length : changed.size,
        ...r,
        totalMs: performance.now() - t0,
      };
      this.log.debug('synced proxy rules', { component: 'proxy', mode: this.engine.mode, ...result });
      for (const fn of this.listeners) fn(result);
      return result;
    } catch (err) {
      // What the kernel holds is now unknown: the next sync must be full.
      this.needFullSync = true;
      this.engine.reset();
      this.log.error('proxy sync failed', {
        component: 'proxy',
        mode: this.engine.mode,
        full,
        error: errorText(err),
      });
      if (!this.stopped) {
        this.timer?.cancel();
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          void this.syncNow();
        }, this.retryDelayMs);
      }
      return undefined;
    }
  }
}

/** The rule configuration a Proxier's options describe (shared by both engines). */
export function ruleConfig(opts: ProxierOptions): RuleConfig {
  return {
    masqueradeBit: opts.masqueradeBit ?? DEFAULT_MASQUERADE_BIT,
    clusterCIDR: opts.clusterCIDR,
    masqueradeAll: opts.masqueradeAll,
    nodeIPs: opts.nodeIPs,
  };
}

/** The iptables data plane: KTS-* chains written with iptables-restore --noflush. */
export class IptablesEngine implements SyncEngine {
  readonly mode = 'iptables';
  /** Per Service: the rules of each of its ports, reused until the Service changes. */
  private readonly fragments = new Map<string, ServicePortRules[]>();
  private applied: Tables | undefined;

  constructor(
    private readonly iptables: Iptables,
    private readonly cfg: RuleConfig,
  ) {}

  reset(): void {
    this.applied = undefined;
  }

  cleanup(): Promise<{ chains: number; rules: number }> {
    return cleanupKts(this.iptables);
  }

  async sync(view: ProxyView, full: boolean, changed: ReadonlySet<string>): Promise<EngineSyncResult> {
    const t0 = performance.now();
    const regenerate = (key: string): void => {
      const ports = view.servicePorts(key);
      if (ports.length === 0) this.fragments.delete(key);
      else
        this.fragments.set(
          key,
          ports.map((p) => servicePortRules(p.info, p.endpoints, this.cfg)),
        );
    };
    const keys = view.serviceKeys();
    if (full) {
      this.fragments.clear();
      for (const key of keys) regenerate(key);
    } else {
      for (const key of changed) regenerate(key);
    }
    const next = assembleTables(
      (function* (fr: Map<string, ServicePortRules[]>) {
        for (const k of keys) yield* fr.get(k) ?? [];
      })(this.fragments),
      this.cfg,
    );
    const kernel = full ? await readKernelState(this.iptables) : undefined;
    const rendered = renderRestore(next, {
      full,
      previous: full ? undefined : this.applied,
      existing: kernel?.existing,
      insertJumps: kernel?.missingJumps,
    });
    const t1 = performance.now();
    if (rendered.payload !== '') await this.iptables.restore(rendered.payload);
    const t2 = performance.now();
    this.applied = next;
    return {
      rewrittenChains: rendered.rewritten,
      deletedChains: rendered.deleted,
      payloadBytes: rendered.payload.length,
      generateMs: t1 - t0,
      applyMs: t2 - t1,
    };
  }
}
