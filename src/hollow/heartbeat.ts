// The periodic writes of hollow nodes: each node renews its Lease every lease interval
// (10 s, as a kubelet) and posts its conditions every status interval (60 s). With 5,000
// nodes that is 500 lease writes per second, so the writes are spread evenly over the
// period (node i of N renews at offset i/N of it) instead of all nodes firing together.
// One clock timer drives everything: every tick, a cursor per kind walks the nodes whose
// slot has come, limited by a cap on writes in flight and by a token bucket, so a stalled
// API server is not hit by a burst of catch-up writes when it recovers (the cursor simply
// lags; a Lease lasts four intervals, so a short lag is harmless).
import type { Node } from '../api/generated/types/core-v1.js';
import type { Clock, TimerHandle } from '../client/clock.js';
import type { Client } from '../client/interface.js';
import { errorText, type Logger } from '../client/log.js';
import { LEASES, NODES } from '../client/resources.js';
import { TokenBucket } from '../client/token-bucket.js';
import { isAlreadyExists, isNotFound } from '../machinery/status-error.js';
import {
  buildLease,
  buildNode,
  type HollowNodeSpec,
  NODE_LEASE_NAMESPACE,
  nodeConditions,
  rfc3339Micro,
} from './templates.js';

/** What the engine knows about one of its nodes. */
export interface NodeState {
  name: string;
  index: number;
  /** The Node's uid ('' until registered). */
  uid: string;
  /** When the node became Ready (lastTransitionTime of its conditions). */
  readySince: number;
}

/** Options of the heartbeat loop. */
export interface HeartbeatOptions {
  client: Client;
  clock: Clock;
  logger: Logger;
  spec: HollowNodeSpec;
  nodes: NodeState[];
  leaseIntervalMs: number;
  statusIntervalMs: number;
  /** Cap on heartbeat writes in flight (default: scaled to the write rate). */
  maxInFlight?: number;
  /** Timer granularity (default 100 ms). */
  tickMs?: number;
}

/** Counters of the loop, for diagnostics. */
export interface HeartbeatStats {
  leaseWrites: number;
  statusWrites: number;
  errors: number;
  /** Node re-registrations after a node was found deleted. */
  reregistrations: number;
}

// Walks nodes 0..N-1 over and over, handing out node `c % N` when its slot
// (start + c·period/N) has come.
class SpreadCursor {
  private next = 0;

  constructor(
    private readonly count: number,
    private readonly periodMs: number,
    private readonly start: number,
  ) {}

  // The next due node without taking it.
  peek(now: number): number | undefined {
    if (this.count === 0) return undefined;
    const dueAt = this.start + (this.next * this.periodMs) / this.count;
    if (dueAt > now) return undefined;
    // More than one whole period behind: every node is due anyway, so drop whole rounds
    // (keeping the order) rather than renewing some nodes twice in a row later.
    if (now - dueAt > this.periodMs) {
      const rounds = Math.floor((now - dueAt) / this.periodMs);
      this.next += rounds * this.count;
    }
    return this.next % this.count;
  }

  take(): void {
    this.next++;
  }
}

/** Renews Leases and posts node status for a set of hollow nodes. */
export class Heartbeats {
  private leaseCursor: SpreadCursor;
  private statusCursor: SpreadCursor;
  private readonly rate: number;
  private readonly bucket: TokenBucket;
  private readonly tickMs: number;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** Counters for diagnostics. */
  readonly stats: HeartbeatStats = { leaseWrites: 0, statusWrites: 0, errors: 0, reregistrations: 0 };

  /** A loop over opts.nodes; call start() to begin. */
  constructor(private readonly opts: HeartbeatOptions) {
    const n = opts.nodes.length;
    this.tickMs = opts.tickMs ?? 100;
    // The nominal rate of both kinds, with room to catch up at twice that pace.
    this.rate = (n * 1000) / opts.leaseIntervalMs + (n * 1000) / opts.statusIntervalMs;
    this.bucket = new TokenBucket(
      Math.max(10, 2 * this.rate),
      Math.max(10, Math.ceil(this.rate / 5)),
      opts.clock,
    );
    this.leaseCursor = new SpreadCursor(0, 1, 0);
    this.statusCursor = new SpreadCursor(0, 1, 0);
  }

  /**
   * Starts the timer. Registration has just written every Node and Lease, so the first
   * renewal round starts now and the first status round one status interval from now.
   */
  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    const now = this.opts.clock.now();
    const n = this.opts.nodes.length;
    this.leaseCursor = new SpreadCursor(n, this.opts.leaseIntervalMs, now);
    this.statusCursor = new SpreadCursor(n, this.opts.statusIntervalMs, now + this.opts.statusIntervalMs);
    this.tick();
  }

  /** Writes in flight allowed: as given, else enough for the nominal rate at 250 ms latency. */
  private maxInFlight(): number {
    return this.opts.maxInFlight ?? Math.max(32, Math.ceil(this.rate / 4));
  }

  /** Stops the timer and waits for writes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.opts.clock.now();
    this.drain(this.leaseCursor, now, (n) => this.renewLease(n));
    this.drain(this.statusCursor, now, (n) => this.postStatus(n));
    this.timer = this.opts.clock.setTimeout(() => this.tick(), this.tickMs);
  }

  private drain(cursor: SpreadCursor, now: number, write: (n: NodeState) => Promise<void>): void {
    for (;;) {
      if (this.inFlight >= this.maxInFlight()) return;
      const i = cursor.peek(now);
      if (i === undefined) return;
      if (!this.bucket.tryAccept()) return;
      cursor.take();
      const node = this.opts.nodes[i];
      if (node === undefined) continue;
      this.inFlight++;
      write(node)
        .catch((err: unknown) => {
          this.stats.errors++;
          this.opts.logger.error('heartbeat failed', { node: node.name, err: errorText(err) });
        })
        .finally(() => {
          this.inFlight--;
          if (this.inFlight === 0 && this.idleWaiters.length > 0) {
            for (const w of this.idleWaiters.splice(0)) w();
          }
        });
    }
  }

  /** Renews one node's Lease, creating it when missing. */
  async renewLease(n: NodeState): Promise<void> {
    const leases = this.opts.client.resource(LEASES);
    const now = this.opts.clock.now();
    try {
      // A merge patch needs no cached copy and never conflicts: the node is the only writer.
      await leases.patch(NODE_LEASE_NAMESPACE, n.name, 'merge', {
        spec: {
          holderIdentity: n.name,
          leaseDurationSeconds: this.opts.spec.leaseDurationSeconds,
          renewTime: rfc3339Micro(now),
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.createLease(n, now);
    }
    this.stats.leaseWrites++;
  }

  private async createLease(n: NodeState, now: number): Promise<void> {
    await createLease(this.opts.client, n, this.opts.spec, now);
  }

  /** Posts one node's conditions with a fresh heartbeat time; re-registers a deleted node. */
  async postStatus(n: NodeState): Promise<void> {
    const now = this.opts.clock.now();
    try {
      // Merge patch replaces the conditions list whole, which is what a full status post does.
      await this.opts.client
        .resource(NODES)
        .patch(
          '',
          n.name,
          'merge',
          { status: { conditions: nodeConditions(now, n.readySince) } },
          { subresource: 'status' },
        );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Someone deleted the node: a kubelet registers it again.
      this.stats.reregistrations++;
      n.readySince = now;
      await registerNode(this.opts.client, n, this.opts.spec, now);
    }
    this.stats.statusWrites++;
  }
}

/** Creates the Node of `n` (or takes over an existing one), records its uid and creates its Lease. */
export async function registerNode(
  client: Client,
  n: NodeState,
  spec: HollowNodeSpec,
  now: number,
): Promise<void> {
  const nodes = client.resource(NODES);
  const desired = buildNode(n.name, n.index, spec, now);
  let created: Node;
  try {
    created = await nodes.create('', desired);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // Left over from an earlier run: refresh its status so it is Ready with our capacity.
    created = await nodes.patch('', n.name, 'merge', { status: desired.status }, { subresource: 'status' });
  }
  n.uid = created.metadata?.uid ?? '';
  n.readySince = now;
  await createLease(client, n, spec, now);
}

/** Creates the Lease of `n`; one left by an earlier run is renewed instead. */
export async function createLease(
  client: Client,
  n: NodeState,
  spec: HollowNodeSpec,
  now: number,
): Promise<void> {
  const leases = client.resource(LEASES);
  const lease = buildLease(n.name, n.uid, spec, now);
  try {
    await leases.create(NODE_LEASE_NAMESPACE, lease);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await leases.patch(NODE_LEASE_NAMESPACE, n.name, 'merge', {
      metadata: { ownerReferences: lease.metadata?.ownerReferences ?? null },
      spec: lease.spec,
    });
  }
}
