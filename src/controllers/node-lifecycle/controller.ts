// The node lifecycle controller (upstream pkg/controller/nodelifecycle): watches node
// heartbeats — the node's Lease in `kube-node-lease` renewed by its kubelet, and the Ready
// condition's lastHeartbeatTime — and when neither moved for `nodeMonitorGracePeriod`
// marks every node condition Unknown (`NodeStatusUnknown`, "Kubelet stopped posting node
// status."). It keeps the condition taints in step with the status (unreachable /
// not-ready, NoSchedule and NoExecute, plus the pressure and unschedulable taints) and
// marks pods on nodes that are not Ready as not Ready. Heartbeat times are compared on
// this controller's own clock (when it *observed* a change), never against the node's
// clock, as upstream does to be immune to clock skew. A node that has never posted a Ready
// condition gets the longer `nodeStartupGracePeriod`, counted from its creation, so a
// kubelet that is still starting is not declared dead.
import type { Node, Pod, Taint } from '../../api/generated/types/core-v1.js';
import type { Lease } from '../../api/generated/types/coordination-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { Client } from '../../client/interface.js';
import { errorText, type Logger } from '../../client/log.js';
import { LEASES, NODES, PODS } from '../../client/resources.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import { isConflict, isNotFound } from '../../machinery/status-error.js';
import { getPodCondition } from '../endpoints/pod-util.js';
import { runPeriodically } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import { desiredTaints, nodeCondition, reconcileTaints } from './taints.js';

/** The namespace kubelets renew their Leases in. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Reason of conditions set Unknown after the grace period. */
export const REASON_NODE_STATUS_UNKNOWN = 'NodeStatusUnknown';
/** Message of conditions set Unknown after the grace period. */
export const MESSAGE_STOPPED_POSTING = 'Kubelet stopped posting node status.';
/** Upstream's node monitor period. */
export const NODE_MONITOR_PERIOD_MS = 5000;
/** Conditions set Unknown alongside Ready. */
const OTHER_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface NodeHealth {
  /** Local time a heartbeat was last observed. */
  probeTimestamp: number;
  heartbeat: string | undefined;
  leaseRenew: string | undefined;
}

/** The node-lifecycle controller. */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  private readonly client: Client;
  private readonly nodes: Lister<Node>;
  private readonly leases: Lister<Lease>;
  private readonly pods: Lister<Pod>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly graceMs: number;
  private readonly startupGraceMs: number;
  private readonly health = new Map<string, NodeHealth>();
  /** Nodes whose NoSchedule taints lag their conditions (see noteNode). */
  private readonly taintQueue = new Set<string>();
  private draining = false;
  private active = false;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;
  /** How often nodes are checked (upstream 5 s; shorter when the grace period is short). */
  readonly monitorPeriodMs: number;

  /** Builds the controller (it polls listers; no per-event work). */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.recorder = ctx.recorder('node-controller');
    this.graceMs = ctx.options.nodeMonitorGracePeriodMs;
    this.startupGraceMs = ctx.options.nodeStartupGracePeriodMs;
    this.monitorPeriodMs = Math.max(100, Math.min(NODE_MONITOR_PERIOD_MS, Math.floor(this.graceMs / 4)));
    const n = ctx.informers.forResource(NODES);
    const l = ctx.informers.forResource(LEASES);
    const p = ctx.informers.forResource(PODS, { nodeName: (pod: Pod) => [pod.spec?.nodeName ?? ''] });
    this.nodes = n.lister;
    this.leases = l.lister;
    this.pods = p.lister;
    this.synced = [n.informer, l.informer, p.informer];
    n.informer.addEventHandler({
      onAdd: (node) => this.noteNode(node),
      onUpdate: (_old, node) => this.noteNode(node),
      onDelete: (node) => {
        const meta = unwrapTombstone(node).metadata;
        const name = meta?.name;
        if (name === undefined) return;
        if (this.health.delete(name)) {
          this.nodeEvent(name, meta?.uid, 'RemovingNode', `Removing Node ${name} from Controller`);
        }
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    this.active = true;
    try {
      await runPeriodically(
        this.clock,
        this.monitorPeriodMs,
        () => this.monitorNodeHealth(),
        signal,
        this.log,
      );
    } finally {
      this.active = false;
    }
  }

  /**
   * Upstream's doNoScheduleTaintingPass runs on every node add/update, not on the monitor
   * period: a node that turns Ready loses its not-ready NoSchedule taint at once, so pods
   * waiting for it schedule without a 5 s lag. NoExecute taints stay with the monitor pass.
   */
  private noteNode(node: Node): void {
    const name = node.metadata?.name;
    if (!this.active || name === undefined || noScheduleTaints(node) === undefined) return;
    this.taintQueue.add(name);
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      try {
        while (this.active && this.taintQueue.size > 0) {
          const [next] = this.taintQueue;
          if (next === undefined) break;
          this.taintQueue.delete(next);
          const cur = this.nodes.getByKey(next);
          const taints = cur === undefined ? undefined : noScheduleTaints(cur);
          if (cur === undefined || taints === undefined) continue;
          const spec: NonNullable<Node['spec']> = { ...cur.spec, taints };
          if (taints.length === 0) delete spec.taints;
          try {
            await this.client.resource(NODES).update('', { ...cur, spec });
          } catch (err) {
            // A conflict means a newer node is on its way through the informer.
            if (!isConflict(err) && !isNotFound(err))
              this.log.error('node NoSchedule tainting failed', { node: next, error: errorText(err) });
          }
        }
      } finally {
        this.draining = false;
      }
    })();
  }

  /** One pass over every node (upstream monitorNodeHealth). */
  async monitorNodeHealth(): Promise<void> {
    for (const node of this.nodes.list()) {
      const name = node.metadata?.name ?? '';
      try {
        await this.checkNode(name);
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) continue;
        this.log.error('node health check failed', { node: name, error: errorText(err) });
      }
    }
  }

  private async checkNode(name: string): Promise<void> {
    let node = this.nodes.getByKey(name);
    if (node === undefined) return;
    const now = this.clock.now();
    const ready = nodeCondition(node, 'Ready');
    const heartbeat = ready?.lastHeartbeatTime;
    const leaseRenew = this.leases.getByKey(`${NODE_LEASE_NAMESPACE}/${name}`)?.spec?.renewTime;
    const h = this.health.get(name);
    if (h === undefined) {
      // As upstream, every node this controller instance starts tracking is announced (also
      // the existing ones after a restart or a change of leader).
      this.nodeEvent(name, node.metadata?.uid, 'RegisteredNode', `Registered Node ${name} in Controller`);
      // A node first seen without a Ready condition has been starting since its creation
      // (upstream probes such a node from its creationTimestamp).
      const created = Date.parse(node.metadata?.creationTimestamp ?? '');
      const since = ready === undefined && !Number.isNaN(created) ? Math.min(now, created) : now;
      this.health.set(name, { probeTimestamp: since, heartbeat, leaseRenew });
    } else if (h.heartbeat !== heartbeat || h.leaseRenew !== leaseRenew) {
      h.probeTimestamp = now;
      h.heartbeat = heartbeat;
      h.leaseRenew = leaseRenew;
    }
    const probe = this.health.get(name)?.probeTimestamp ?? now;
    const grace = ready === undefined ? this.startupGraceMs : this.graceMs;
    if (now - probe > grace) {
      const updated = markUnknown(node, formatTimestamp(now));
      if (updated !== undefined) {
        node = await this.client.resource(NODES).updateStatus('', updated);
        this.recorder.event(
          { kind: 'Node', name, uid: name, apiVersion: 'v1' },
          'Normal',
          'NodeNotReady',
          `Node ${name} status is now: NodeNotReady`,
        );
        this.log.info('node stopped posting status', { node: name });
      }
    }
    const taints = reconcileTaints(node, desiredTaints(node), formatTimestamp(now));
    if (taints !== undefined) {
      const spec: NonNullable<Node['spec']> = { ...node.spec, taints };
      if (taints.length === 0) delete spec.taints;
      node = await this.client.resource(NODES).update('', { ...node, spec });
    }
    if (nodeCondition(node, 'Ready')?.status !== 'True' && nodeCondition(node, 'Ready') !== undefined) {
      await this.markPodsNotReady(name, now);
    }
  }

  // Upstream RecordNodeEvent: the node's uid in the reference, "Node <name> event: " prefixed.
  private nodeEvent(name: string, uid: string | undefined, reason: string, message: string): void {
    this.recorder.event(
      { kind: 'Node', name, uid: uid ?? name, apiVersion: 'v1' },
      'Normal',
      reason,
      `Node ${name} event: ${message}`,
    );
  }

  /** Sets the Ready condition of the node's pods False (upstream MarkPodsNotReady). */
  private async markPodsNotReady(nodeName: string, now: number): Promise<void> {
    for (const pod of this.pods.byIndex('nodeName', nodeName)) {
      if (pod.spec?.nodeName !== nodeName || getPodCondition(pod, 'Ready')?.status !== 'True') continue;
      const conditions = (pod.status?.conditions ?? []).map((c) =>
        c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: formatTimestamp(now) } : c,
      );
      try {
        await this.client.resource(PODS).updateStatus(pod.metadata?.namespace ?? '', {
          ...pod,
          status: { ...pod.status, conditions },
        });
        this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }
}

/**
 * The node with Ready and the pressure conditions set Unknown, or undefined when they
 * already are. Conditions the kubelet never posted are added with NodeStatusNeverUpdated.
 */
export function markUnknown(node: Node, now: string): Node | undefined {
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of ['Ready', ...OTHER_CONDITIONS]) {
    const i = conditions.findIndex((c) => c.type === type);
    const cur = conditions[i];
    if (cur === undefined) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata?.creationTimestamp ?? now,
        lastTransitionTime: now,
      });
      changed = true;
    } else if (cur.status !== 'Unknown') {
      conditions[i] = {
        ...cur,
        status: 'Unknown',
        reason: REASON_NODE_STATUS_UNKNOWN,
        message: MESSAGE_STOPPED_POSTING,
        lastTransitionTime: now,
      };
      changed = true;
    }
  }
  return changed ? { ...node, status: { ...node.status, conditions } } : undefined;
}

/**
 * The node's taints with the condition and unschedulable NoSchedule taints brought in line
 * (NoExecute taints left as they are), or undefined when they already are.
 */
export function noScheduleTaints(node: Node): Taint[] | undefined {
  const want = [
    ...desiredTaints(node).filter((t) => t.effect === 'NoSchedule'),
    ...(node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute'),
  ];
  return reconcileTaints(node, want, formatTimestamp(Date.now()));
}
