// The hollow-node engine (kubemark/kwok's role): one process registers many simulated
// Nodes, keeps them alive (heartbeat.ts) and plays the kubelet's part for the pods bound to
// them, following the stage table (stages.ts).
//
// Pods are watched with one informer over every bound pod (`spec.nodeName!=`: a field
// selector cannot name 5,000 nodes) and filtered by the node set. Informer handlers only
// enqueue the pod's key; a fixed pool of workers takes keys from one work queue (which
// never hands a key to two workers at once), looks the pod up in the cache, finds its
// stage and either writes the stage's outcome or parks the key in the queue's delay heap
// until the stage's delay has passed. So the number of writes in flight is bounded by the
// worker count and there is one timer for all delays, never one per pod.
import type { Pod } from '../api/generated/types/core-v1.js';
import { type Clock, realClock } from '../client/clock.js';
import { SharedIndexInformer } from '../client/cache/shared-informer.js';
import { DeletedFinalStateUnknown, metaNamespaceKeyFunc, splitKey } from '../client/cache/store.js';
import type { Client } from '../client/interface.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { errorText, type Logger, noopLogger } from '../client/log.js';
import { LEASES, NODES, PODS } from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { RateLimitingQueue } from '../client/workqueue/rate-limiting-queue.js';
import { ItemExponentialFailureRateLimiter } from '../client/workqueue/rate-limiter.js';
import { isConflict, isNotFound } from '../machinery/status-error.js';
import { Heartbeats, type HeartbeatStats, type NodeState, registerNode } from './heartbeat.js';
import { DEFAULT_POD_STAGES, matchStage, type Stage, stageDelayMs, validateStages } from './stages.js';
import {
  type HollowNodeSpec,
  NODE_LEASE_NAMESPACE,
  nodeInternalIP,
  podSubnetOctet,
  renderPodStatus,
} from './templates.js';

/** Options of startHollowNodes. */
export interface HollowNodesOptions {
  /** The API client (or give `kubeconfig`). */
  client?: Client;
  /** A kubeconfig path; the engine then owns an unthrottled client and closes it. */
  kubeconfig?: string;
  /** How many nodes. */
  count: number;
  /** Node names are `<prefix>-<i>` (default `hollow-node`). */
  namePrefix?: string;
  /** Capacity per node (defaults 4 CPUs, 16Gi memory, 110 pods, 100Gi ephemeral storage). */
  cpu?: string;
  memory?: string;
  pods?: number;
  ephemeralStorage?: string;
  /** Zones to spread nodes over via `topology.kubernetes.io/zone` (default 3; 0: no label). */
  zones?: number;
  /** How long a run-to-completion pod runs before it succeeds (default 1000 ms). */
  jobCompletionDelayMs?: number;
  /** Cap on the grace period of a deleted pod (default 1000 ms). */
  deletionDelayMs?: number;
  /** Lease renewal interval (default 10 s, as a kubelet). */
  leaseRenewIntervalMs?: number;
  /** Lease duration (default 40 s, as a kubelet). */
  leaseDurationSeconds?: number;
  /** Node status post interval (default 60 s). */
  nodeStatusIntervalMs?: number;
  /** Pod workers, i.e. pod writes in flight (default 32). */
  podWorkers?: number;
  /** Heartbeat writes in flight (default: enough for the write rate at 250 ms latency, at least 32). */
  heartbeatInFlight?: number;
  /** Node registrations in flight (default 64). */
  registerInFlight?: number;
  /** Delete the nodes (and their Leases) on close (default false). */
  deleteNodesOnClose?: boolean;
  /** The pod lifecycle (default DEFAULT_POD_STAGES). */
  stages?: readonly Stage[];
  clock?: Clock;
  logger?: Logger;
}

/** Counters for diagnostics. */
export interface HollowNodesStats extends HeartbeatStats {
  /** Pod status writes by template. */
  podsStarted: number;
  podsSucceeded: number;
  podsDeleted: number;
  podErrors: number;
  /** Milliseconds spent registering the nodes. */
  registerMs: number;
}

/** A running set of hollow nodes. */
export interface HollowNodes {
  /** Node names, index order. */
  nodes: string[];
  /** Counters for diagnostics. */
  stats(): HollowNodesStats;
  /** Stops leases, status and pod handling; deletes the nodes when asked (or configured). */
  close(opts?: { deleteNodes?: boolean }): Promise<void>;
}

// Per-node pod IP allocation inside the node's /24: host numbers 2..254, skipping those in use.
interface IpPool {
  octet: number;
  next: number;
  used: Set<number>;
}

/** Registers `count` hollow nodes and runs them until close(). */
export async function startHollowNodes(opts: HollowNodesOptions): Promise<HollowNodes> {
  const engine = new HollowNodeEngine(opts);
  try {
    await engine.start();
  } catch (err) {
    await engine.close({ deleteNodes: false });
    throw err;
  }
  return {
    nodes: engine.nodeNames(),
    stats: () => engine.stats(),
    close: (o) => engine.close(o),
  };
}

/** The engine behind startHollowNodes (exported for unit tests with a fake client). */
export class HollowNodeEngine {
  private readonly client: Client;
  private readonly ownClient: RestClient | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly spec: HollowNodeSpec;
  private readonly stages: readonly Stage[];
  private readonly nodes: NodeState[] = [];
  private readonly byName = new Map<string, NodeState>();
  private readonly pools = new Map<string, IpPool>();
  private readonly podIPs = new Map<string, { node: string; host: number; ip: string }>();
  // key → `${uid}/${stage}` of the last stage written, so a stale cache is not acted on twice.
  private readonly applied = new Map<string, string>();
  // key → the stage it waits for and when that wait ends.
  private readonly waiting = new Map<string, { mark: string; due: number }>();
  private readonly queue: RateLimitingQueue<string>;
  private readonly informer: SharedIndexInformer<Pod>;
  private readonly heartbeats: Heartbeats;
  private readonly abort = new AbortController();
  private readonly workers: Array<Promise<void>> = [];
  private informerDone: Promise<void> | undefined;
  private closed: Promise<void> | undefined;
  private readonly counters = {
    podsStarted: 0,
    podsSucceeded: 0,
    podsDeleted: 0,
    podErrors: 0,
    registerMs: 0,
  };

  /** An engine (call start to register and run). */
  constructor(private readonly opts: HollowNodesOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 0)
      throw new Error(`invalid hollow node count ${opts.count}`);
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger ?? noopLogger;
    if (opts.client !== undefined) this.client = opts.client;
    else if (opts.kubeconfig !== undefined) {
      // Throttling is done here (bounded workers, a rate-limited heartbeat), not by the client.
      this.ownClient = new RestClient(
        { ...loadKubeconfig(opts.kubeconfig), qps: Number.POSITIVE_INFINITY, userAgent: 'kts-hollow-nodes' },
        { clock: this.clock },
      );
      this.client = this.ownClient;
    } else throw new Error('startHollowNodes needs a client or a kubeconfig');
    this.stages = opts.stages ?? DEFAULT_POD_STAGES;
    const problems = validateStages(this.stages);
    if (problems.length > 0) throw new Error(`invalid stages: ${problems.join('; ')}`);
    this.spec = {
      cpu: opts.cpu ?? '4',
      memory: opts.memory ?? '16Gi',
      pods: opts.pods ?? 110,
      ephemeralStorage: opts.ephemeralStorage ?? '100Gi',
      zones: opts.zones ?? 3,
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 40,
    };
    const prefix = opts.namePrefix ?? 'hollow-node';
    for (let i = 0; i < opts.count; i++) {
      const n: NodeState = { name: `${prefix}-${i}`, index: i, uid: '', readySince: 0 };
      this.nodes.push(n);
      this.byName.set(n.name, n);
      this.pools.set(n.name, { octet: podSubnetOctet(i), next: 2, used: new Set() });
    }
    this.queue = new RateLimitingQueue<string>({
      clock: this.clock,
      name: 'hollow-pods',
      rateLimiter: new ItemExponentialFailureRateLimiter<string>(50, 10_000),
    });
    this.informer = new SharedIndexInformer<Pod>(this.client.resource(PODS), {
      fieldSelector: 'spec.nodeName!=',
      clock: this.clock,
      logger: this.log,
      transform: (p) => {
        if (p.metadata?.managedFields !== undefined) delete p.metadata.managedFields;
        return p;
      },
    });
    this.informer.addEventHandler({
      onAdd: (p) => this.observe(p),
      onUpdate: (_old, p) => this.observe(p),
      onDelete: (p) => this.forget(p instanceof DeletedFinalStateUnknown ? p.obj : p),
    });
    this.heartbeats = new Heartbeats({
      client: this.client,
      clock: this.clock,
      logger: this.log,
      spec: this.spec,
      nodes: this.nodes,
      leaseIntervalMs: opts.leaseRenewIntervalMs ?? 10_000,
      statusIntervalMs: opts.nodeStatusIntervalMs ?? 60_000,
      ...(opts.heartbeatInFlight !== undefined ? { maxInFlight: opts.heartbeatInFlight } : {}),
    });
  }

  /** Node names in index order. */
  nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** Counters for diagnostics. */
  stats(): HollowNodesStats {
    return { ...this.heartbeats.stats, ...this.counters };
  }

  /** Registers the nodes, syncs the pod cache and starts workers and heartbeats. */
  async start(): Promise<void> {
    const t0 = Date.now();
    const now = this.clock.now();
    await forEachLimit(this.nodes, this.opts.registerInFlight ?? 64, (n) =>
      registerNode(this.client, n, this.spec, now),
    );
    this.counters.registerMs = Date.now() - t0;
    this.log.info('hollow nodes registered', { count: this.nodes.length, ms: this.counters.registerMs });
    this.informerDone = this.informer.run(this.abort.signal);
    for (let i = 0; i < (this.opts.podWorkers ?? 32); i++) this.workers.push(this.worker());
    this.heartbeats.start();
    if (!(await this.informer.waitForSync(this.abort.signal)))
      throw new Error('hollow nodes: pod cache never synced');
  }

  /** Stops everything; resolves once no write is in flight (idempotent). */
  close(o: { deleteNodes?: boolean } = {}): Promise<void> {
    this.closed ??= this.shutdown(o.deleteNodes ?? this.opts.deleteNodesOnClose ?? false);
    return this.closed;
  }

  private async shutdown(deleteNodes: boolean): Promise<void> {
    this.abort.abort();
    this.queue.shutDown();
    await Promise.all([this.heartbeats.stop(), ...this.workers, this.informerDone]);
    if (deleteNodes) {
      await forEachLimit(this.nodes, this.opts.registerInFlight ?? 64, async (n) => {
        await ignoreNotFound(this.client.resource(NODES).delete('', n.name));
        await ignoreNotFound(this.client.resource(LEASES).delete(NODE_LEASE_NAMESPACE, n.name));
      });
    }
    this.ownClient?.close();
  }

  private observe(pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (node === undefined || !this.byName.has(node)) return;
    const key = metaNamespaceKeyFunc(pod);
    // A pod we did not start (this process restarted) keeps the IP it has.
    if (!this.podIPs.has(key) && pod.status?.podIP !== undefined) this.claimIP(key, node, pod.status.podIP);
    this.queue.add(key);
  }

  private forget(pod: Pod): void {
    const key = metaNamespaceKeyFunc(pod);
    this.applied.delete(key);
    this.waiting.delete(key);
    this.releaseIP(key);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const r = await this.queue.get();
      if (r.shutdown) return;
      try {
        await this.sync(r.item);
        this.queue.forget(r.item);
      } catch (err) {
        this.counters.podErrors++;
        this.log.error('hollow pod sync failed', { pod: r.item, err: errorText(err) });
        if (!this.abort.signal.aborted) this.queue.addRateLimited(r.item);
      } finally {
        this.queue.done(r.item);
      }
    }
  }

  /** Brings one pod one stage further, or schedules when to. */
  private async sync(key: string): Promise<void> {
    const pod = this.informer.getIndexer().getByKey(key);
    if (pod === undefined) return;
    const nodeName = pod.spec?.nodeName ?? '';
    const node = this.byName.get(nodeName);
    if (node === undefined) return;
    const stage = matchStage(pod, this.stages);
    if (stage === undefined) {
      this.waiting.delete(key);
      return;
    }
    const mark = `${pod.metadata?.uid ?? ''}/${stage.name}`;
    // Written already; the cache has not caught up with our own write yet.
    if (this.applied.get(key) === mark) return;
    const now = this.clock.now();
    const delay = stageDelayMs(stage, pod, {
      jobCompletionDelayMs: this.opts.jobCompletionDelayMs ?? 1000,
      deletionDelayMs: this.opts.deletionDelayMs ?? 1000,
    });
    if (delay > 0) {
      let w = this.waiting.get(key);
      if (w === undefined || w.mark !== mark) {
        w = { mark, due: now + delay };
        this.waiting.set(key, w);
      }
      if (w.due > now) {
        this.queue.addAfter(key, w.due - now);
        return;
      }
    }
    this.waiting.delete(key);
    const { namespace, name } = splitKey(key);
    const uid = pod.metadata?.uid ?? '';
    try {
      if (stage.next.delete === true) {
        await this.client.resource(PODS).delete(namespace, name, {
          gracePeriodSeconds: 0,
          ...(uid !== '' ? { preconditions: { uid } } : {}),
        });
        this.counters.podsDeleted++;
      } else if (stage.next.statusTemplate !== undefined) {
        const hostIP = nodeInternalIP(node.index);
        const podIP = pod.spec?.hostNetwork === true ? hostIP : this.allocateIP(key, nodeName);
        const status = renderPodStatus(stage.next.statusTemplate, pod, { hostIP, podIP }, now);
        await this.client
          .resource(PODS)
          .patch(namespace, name, 'merge', { metadata: { uid }, status }, { subresource: 'status' });
        if (stage.next.statusTemplate === 'running') this.counters.podsStarted++;
        else this.counters.podsSucceeded++;
      }
    } catch (err) {
      // Gone or replaced meanwhile: the informer brings the new state (or the deletion).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    this.applied.set(key, mark);
  }

  private allocateIP(key: string, nodeName: string): string {
    const have = this.podIPs.get(key);
    if (have !== undefined) {
      if (have.node === nodeName) return have.ip;
      // The same name re-created on another node: give the old address back.
      this.releaseIP(key);
    }
    const pool = this.pools.get(nodeName);
    if (pool === undefined) throw new Error(`no IP pool for node ${nodeName}`);
    // 253 addresses per node; more pods than that on one node reuse addresses (never contacted).
    let host = pool.next;
    for (let tries = 0; tries < 253 && pool.used.has(host); tries++) host = host >= 254 ? 2 : host + 1;
    pool.next = host >= 254 ? 2 : host + 1;
    pool.used.add(host);
    const ip = `10.42.${pool.octet}.${host}`;
    this.podIPs.set(key, { node: nodeName, host, ip });
    return ip;
  }

  private claimIP(key: string, nodeName: string, ip: string): void {
    const pool = this.pools.get(nodeName);
    const m = /^10\.42\.(\d+)\.(\d+)$/.exec(ip);
    if (pool === undefined || m === null || Number(m[1]) !== pool.octet) return;
    const host = Number(m[2]);
    pool.used.add(host);
    this.podIPs.set(key, { node: nodeName, host, ip });
  }

  private releaseIP(key: string): void {
    const have = this.podIPs.get(key);
    if (have === undefined) return;
    this.podIPs.delete(key);
    this.pools.get(have.node)?.used.delete(have.host);
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Runs fn over items with at most `limit` calls in flight; rejects with the first error. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
}
