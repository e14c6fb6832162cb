// The disruption controller (upstream pkg/controller/disruption): keeps each
// PodDisruptionBudget's status — how many of its pods are healthy (`currentHealthy`), how
// many must stay healthy (`desiredHealthy`, from minAvailable or maxUnavailable, a
// percentage taken of `expectedPods`), how many may be evicted now (`disruptionsAllowed`),
// and the `DisruptionAllowed` condition — and expires `disruptedPods` entries the eviction
// API left behind. Expected pods come from the scale of the pods' controllers
// (Deployment via its ReplicaSet, ReplicaSet, StatefulSet, ReplicationController).
import type { EventRecorder } from '../../client/events.js';
import { isDeepStrictEqual } from 'node:util';
import type { Deployment, ReplicaSet, StatefulSet } from '../../api/generated/types/apps-v1.js';
import type { Pod, ReplicationController } from '../../api/generated/types/core-v1.js';
import type { Condition } from '../../api/generated/types/meta-v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from '../../api/generated/types/policy-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  splitKey,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import { type Client, gvr } from '../../client/interface.js';
import { errorText, type Logger } from '../../client/log.js';
import {
  DEPLOYMENTS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  STATEFULSETS,
} from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { getScaledValueFromIntOrPercent } from '../../machinery/intstr.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import { isNotFound } from '../../machinery/status-error.js';
import { isPodReady } from '../endpoints/pod-util.js';
import { runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';

/** policy/v1 poddisruptionbudgets. */
export const PODDISRUPTIONBUDGETS = gvr<PodDisruptionBudget>('policy', 'v1', 'poddisruptionbudgets');
/** The PDB condition this controller maintains. */
export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
/** How long a `disruptedPods` entry may wait for its pod's deletion (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** The disruption controller. */
export class DisruptionController implements Controller {
  readonly name = 'disruption';
  /** PDB keys waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly recorder: EventRecorder;
  private readonly pdbs: Lister<PodDisruptionBudget>;
  private readonly pods: Lister<Pod>;
  private readonly replicaSets: Lister<ReplicaSet>;
  private readonly deployments: Lister<Deployment>;
  private readonly statefulSets: Lister<StatefulSet>;
  private readonly rcs: Lister<ReplicationController>;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    // Upstream's disruption controller reports under this component name.
    this.recorder = ctx.recorder('controllermanager');
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'disruption' });
    const pdb = ctx.informers.forResource(PODDISRUPTIONBUDGETS);
    const pod = ctx.informers.forResource(PODS);
    const rs = ctx.informers.forResource(REPLICASETS);
    const dep = ctx.informers.forResource(DEPLOYMENTS);
    const sts = ctx.informers.forResource(STATEFULSETS);
    const rc = ctx.informers.forResource(REPLICATIONCONTROLLERS);
    this.pdbs = pdb.lister;
    this.pods = pod.lister;
    this.replicaSets = rs.lister;
    this.deployments = dep.lister;
    this.statefulSets = sts.lister;
    this.rcs = rc.lister;
    this.synced = [pdb.informer, pod.informer, rs.informer, dep.informer, sts.informer, rc.informer];
    const onPDB = (p: PodDisruptionBudget | DeletedFinalStateUnknown<PodDisruptionBudget>): void =>
      this.queue.add(metaNamespaceKeyFunc(unwrapTombstone(p)));
    pdb.informer.addEventHandler({ onAdd: onPDB, onUpdate: (_o, n) => onPDB(n) });
    const onPod = (p: Pod | DeletedFinalStateUnknown<Pod>): void => {
      const obj = unwrapTombstone(p);
      for (const b of this.pdbs.namespace(obj.metadata?.namespace ?? '').list()) {
        if (labelSelectorAsSelector(b.spec?.selector ?? {}).matches(obj.metadata?.labels)) onPDB(b);
      }
    };
    pod.informer.addEventHandler({ onAdd: onPod, onUpdate: (_o, n) => onPod(n), onDelete: onPod });
    // A controller's scale changing changes expectedPods of the PDBs over its pods.
    const onScale = (o: { metadata?: { namespace?: string } } | DeletedFinalStateUnknown<unknown>): void => {
      const ns = 'metadata' in o ? (o.metadata?.namespace ?? '') : '';
      for (const b of this.pdbs.namespace(ns).list()) onPDB(b);
    };
    for (const inf of [rs.informer, dep.informer, sts.informer, rc.informer]) {
      (inf as unknown as { addEventHandler(h: object): void }).addEventHandler({
        onUpdate: (_o: unknown, n: { metadata?: { namespace?: string } }) => onScale(n),
      });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runWorkers(this.queue, this.workers, (k) => this.sync(k), signal, this.log);
  }

  /** Recomputes one PDB's status. */
  async sync(key: string): Promise<void> {
    const pdb = this.pdbs.getByKey(key);
    if (pdb === undefined) return;
    const { namespace } = splitKey(key);
    const selector = labelSelectorAsSelector(pdb.spec?.selector ?? {});
    const pods = this.pods.namespace(namespace).list(selector);
    if (pods.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    const now = this.clock.now();
    let status: PodDisruptionBudgetStatus;
    try {
      const { expectedCount, desiredHealthy } = this.expectedAndDesired(pdb, pods);
      const disruptedPods = this.liveDisruptedPods(pdb, pods, now);
      const currentHealthy = countHealthy(pods, disruptedPods);
      let disruptionsAllowed = currentHealthy - desiredHealthy;
      // A PDB matching no pods yet must not allow disruptions before its first real sync.
      if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
      status = {
        ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}),
        disruptionsAllowed,
        currentHealthy,
        desiredHealthy,
        expectedPods: expectedCount,
        observedGeneration: pdb.metadata?.generation ?? 0,
        conditions: setCondition(
          pdb,
          disruptionsAllowed > 0 ? ['True', 'SufficientPods', ''] : ['False', 'InsufficientPods', ''],
          now,
        ),
      };
    } catch (err) {
      // Fail safe: no disruptions while we cannot tell how many pods there should be.
      this.log.debug('pdb sync failed', { pdb: key, error: errorText(err) });
      status = {
        ...pdb.status,
        disruptionsAllowed: 0,
        currentHealthy: pdb.status?.currentHealthy ?? 0,
        desiredHealthy: pdb.status?.desiredHealthy ?? 0,
        expectedPods: pdb.status?.expectedPods ?? 0,
        observedGeneration: pdb.metadata?.generation ?? 0,
        conditions: setCondition(pdb, ['False', 'SyncFailed', errorText(err)], now),
      };
    }
    if (isDeepStrictEqual(canonical(pdb.status ?? {}), canonical(status))) return;
    try {
      await this.client.resource(PODDISRUPTIONBUDGETS).updateStatus(namespace, { ...pdb, status });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private expectedAndDesired(
    pdb: PodDisruptionBudget,
    pods: Pod[],
  ): { expectedCount: number; desiredHealthy: number } {
    const { maxUnavailable, minAvailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined) {
      const expectedCount = this.expectedScale(pods);
      const max = getScaledValueFromIntOrPercent(maxUnavailable, expectedCount, true);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - max) };
    }
    if (minAvailable !== undefined) {
      if (typeof minAvailable === 'number')
        return { expectedCount: pods.length, desiredHealthy: minAvailable };
      const expectedCount = this.expectedScale(pods);
      return {
        expectedCount,
        desiredHealthy: getScaledValueFromIntOrPercent(minAvailable, expectedCount, true),
      };
    }
    // Neither set: upstream defaults to minAvailable 1 semantics.
    return { expectedCount: pods.length, desiredHealthy: 1 };
  }

  /** Sum of the scales of the pods' controllers (each controller counted once). */
  private expectedScale(pods: Pod[]): number {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const ns = pod.metadata?.namespace ?? '';
      const ref = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
      if (ref === undefined) throw new Error(`found no controller ref for pod "${pod.metadata?.name}"`);
      const scale = this.scaleOf(ns, ref.kind, ref.name, ref.uid);
      if (scale === undefined) throw new Error(`found no controllers for pod "${pod.metadata?.name}"`);
      seen.set(scale.uid, scale.replicas);
    }
    let total = 0;
    for (const n of seen.values()) total += n;
    return total;
  }

  private scaleOf(
    ns: string,
    kind: string,
    name: string,
    uid: string,
  ): { uid: string; replicas: number } | undefined {
    const lookup = <T extends { metadata?: { uid?: string }; spec?: { replicas?: number } }>(
      l: Lister<T>,
      n: string,
      u: string,
    ) => {
      const o = l.namespace(ns).tryGet(n);
      return o !== undefined && o.metadata?.uid === u ? o : undefined;
    };
    switch (kind) {
      case 'ReplicaSet': {
        const rs = lookup(this.replicaSets, name, uid);
        if (rs === undefined) return undefined;
        const dref = rs.metadata?.ownerReferences?.find(
          (r) => r.controller === true && r.kind === 'Deployment',
        );
        if (dref !== undefined) {
          const d = lookup(this.deployments, dref.name, dref.uid);
          if (d !== undefined) return { uid: d.metadata?.uid ?? '', replicas: d.spec?.replicas ?? 1 };
        }
        return { uid, replicas: rs.spec?.replicas ?? 1 };
      }
      case 'StatefulSet': {
        const s = lookup(this.statefulSets, name, uid);
        return s === undefined ? undefined : { uid, replicas: s.spec?.replicas ?? 1 };
      }
      case 'ReplicationController': {
        const r = lookup(this.rcs, name, uid);
        return r === undefined ? undefined : { uid, replicas: r.spec?.replicas ?? 1 };
      }
      case 'Deployment': {
        const d = lookup(this.deployments, name, uid);
        return d === undefined ? undefined : { uid, replicas: d.spec?.replicas ?? 1 };
      }
      default:
        return undefined;
    }
  }

  /** The disruptedPods entries still pending: pod exists, not yet deleting, not expired. */
  private liveDisruptedPods(pdb: PodDisruptionBudget, pods: Pod[], now: number): Record<string, string> {
    const out: Record<string, string> = {};
    const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
    for (const [name, ts] of Object.entries(pdb.status?.disruptedPods ?? {})) {
      const pod = byName.get(name);
      if (pod === undefined || pod.metadata?.deletionTimestamp !== undefined) continue;
      const t = Date.parse(ts);
      if (Number.isNaN(t) || t + DELETION_TIMEOUT_MS < now) continue;
      out[name] = ts;
    }
    return out;
  }
}

/** Ready pods that are neither being deleted nor recorded as disrupted. */
export function countHealthy(pods: Pod[], disrupted: Record<string, string>): number {
  let n = 0;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp !== undefined) continue;
    if ((p.metadata?.name ?? '') in disrupted) continue;
    if (isPodReady(p)) n++;
  }
  return n;
}

function setCondition(
  pdb: PodDisruptionBudget,
  [status, reason, message]: [string, string, string],
  now: number,
): Condition[] {
  const others = (pdb.status?.conditions ?? []).filter((c) => c.type !== DISRUPTION_ALLOWED_CONDITION);
  const prev = pdb.status?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED_CONDITION);
  const cond: Condition = {
    type: DISRUPTION_ALLOWED_CONDITION,
    status,
    reason,
    message,
    observedGeneration: pdb.metadata?.generation ?? 0,
    lastTransitionTime:
      prev !== undefined && prev.status === status ? prev.lastTransitionTime : formatTimestamp(now),
  };
  return [...others, cond];
}

/** The value with empty strings, maps and lists dropped, as the server's omit-empty does. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const c = canonical(x);
      if (c === undefined || c === '' || (typeof c === 'object' && c !== null && Object.keys(c).length === 0))
        continue;
      out[k] = c;
    }
    return out;
  }
  return v;
}
