// The DaemonSet controller (upstream pkg/controller/daemon). One sync per DaemonSet: build
// the history (a ControllerRevision per template, named by the template hash), map daemon
// pods to their target nodes, create a pod pinned to every eligible node lacking one,
// delete pods from nodes that no longer qualify (and surplus or failed ones), then roll
// outdated pods under maxUnavailable/maxSurge, and record status. Pods are created with
// generateName, so expectations keep a stale cache from causing duplicate creations.
import { omitZero } from '../../api/omit-empty.js';
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from '../../api/generated/types/apps-v1.js';
import type { Node, Pod } from '../../api/generated/types/core-v1.js';
import { type DeletedFinalStateUnknown, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import { ControllerExpectations } from '../../client/expectations.js';
import type { Client } from '../../client/interface.js';
import { DAEMONSETS, NODES, PODS } from '../../client/resources.js';
import { getScaledValueFromIntOrPercent } from '../../machinery/intstr.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { getControllerOfNoCopy, newControllerRef } from '../../machinery/owner-references.js';
import { isConflict, isNotFound } from '../../machinery/status-error.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  CONTROLLER_REVISIONS,
  ControllerHistory,
  computeTemplateHash,
  equalRevision,
  nextRevision,
  sortControllerRevisions,
  templatePatch,
} from '../common/controller-history.js';
import { isPodAvailable, isPodReady } from '../common/pod-state.js';
import { SyncLoop } from '../common/sync-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import { addDaemonTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './predicates.js';

/** DaemonSet's group/version/kind. */
export const DAEMONSET_GVK = { group: 'apps', version: 'v1', kind: 'DaemonSet' };
/** The deprecated template-generation label still stamped on daemon pods. */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

const DEFAULT_REVISION_HISTORY_LIMIT = 10;

function terminating(p: Pod): boolean {
  return (p.metadata?.deletionTimestamp ?? '') !== '';
}

function byAge(a: Pod, b: Pod): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/** The DaemonSet controller. */
export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;
  private readonly expectations: ControllerExpectations;
  private readonly dss;
  private readonly pods;
  private readonly nodes;
  private readonly revisions;
  private readonly history: ControllerHistory;
  private readonly workers: number;

  /** A controller over ctx's informers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.recorder = ctx.recorder('daemonset-controller');
    this.loop = new SyncLoop('daemonset', ctx.log, ctx.clock);
    this.expectations = new ControllerExpectations(ctx.clock);
    this.dss = ctx.informers.forResource(DAEMONSETS);
    this.pods = ctx.informers.forResource(PODS);
    this.nodes = ctx.informers.forResource(NODES);
    this.revisions = ctx.informers.forResource(CONTROLLER_REVISIONS);
    this.history = new ControllerHistory(ctx.client, this.revisions.lister);
    this.workers = ctx.options.workers;
  }

  run(signal: AbortSignal): Promise<void> {
    this.dss.informer.addEventHandler({
      onAdd: (d) => this.loop.enqueue(d),
      onUpdate: (_o, d) => this.loop.enqueue(d),
      onDelete: (d) => {
        const ds = unwrapTombstone(d);
        this.expectations.deleteExpectations(`${ds.metadata?.namespace ?? ''}/${ds.metadata?.name ?? ''}`);
        this.loop.enqueue(d);
      },
    });
    const ownerKey = (pod: Pod): string | undefined => {
      const ref = getControllerOfNoCopy(pod);
      return ref?.kind === 'DaemonSet' ? `${pod.metadata?.namespace ?? ''}/${ref.name}` : undefined;
    };
    this.pods.informer.addEventHandler({
      onAdd: (p) => {
        const key = ownerKey(p);
        if (key === undefined) return;
        this.expectations.creationObserved(key);
        this.loop.queue.add(key);
      },
      onUpdate: (_o, p) => {
        const key = ownerKey(p);
        if (key !== undefined) this.loop.queue.add(key);
      },
      onDelete: (p: Pod | DeletedFinalStateUnknown<Pod>) => {
        const key = ownerKey(unwrapTombstone(p));
        if (key === undefined) return;
        this.expectations.deletionObserved(key);
        this.loop.queue.add(key);
      },
    });
    const allSets = (): void => {
      for (const ds of this.dss.lister.list()) this.loop.enqueue(ds);
    };
    this.nodes.informer.addEventHandler({ onAdd: allSets, onUpdate: allSets, onDelete: allSets });
    return this.loop.run(signal, this.workers, (k) => this.sync(k), [
      this.dss.informer,
      this.pods.informer,
      this.nodes.informer,
      this.revisions.informer,
    ]);
  }

  /** Reconciles one DaemonSet by `namespace/name` key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.dss.lister.namespace(namespace).tryGet(name);
    if (ds === undefined) {
      this.expectations.deleteExpectations(key);
      return;
    }
    if ((ds.metadata?.deletionTimestamp ?? '') !== '') return;
    const selector = labelSelectorAsSelector(ds.spec?.selector);
    if (selector.empty()) return;
    const { hash, collisionCount } = await this.constructHistory(ds);
    const nodes = this.nodes.lister.list();
    const nodeToPods = this.nodeToDaemonPods(ds);
    if (this.expectations.satisfiedExpectations(key)) {
      await this.manage(key, ds, nodes, nodeToPods, hash);
      if (
        (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' &&
        this.expectations.satisfiedExpectations(key)
      ) {
        await this.rollingUpdate(key, ds, nodes, this.nodeToDaemonPods(ds), hash);
      }
      await this.cleanupHistory(ds, hash);
    }
    await this.updateStatus(ds, nodes, this.nodeToDaemonPods(ds), hash, collisionCount);
  }

  private nodeToDaemonPods(ds: DaemonSet): Map<string, Pod[]> {
    const selector = labelSelectorAsSelector(ds.spec?.selector);
    const out = new Map<string, Pod[]>();
    for (const p of this.pods.lister.namespace(ds.metadata?.namespace ?? '').list(selector)) {
      if (getControllerOfNoCopy(p)?.uid !== ds.metadata?.uid) continue;
      const node = targetNodeName(p);
      if (node === undefined) continue;
      const l = out.get(node);
      if (l === undefined) out.set(node, [p]);
      else l.push(p);
    }
    for (const l of out.values()) l.sort(byAge);
    return out;
  }

  // The revision of the current template: reuse an equal one (renumbering it to be the
  // newest) or create it.
  private async constructHistory(ds: DaemonSet): Promise<{ hash: string; collisionCount: number }> {
    const selector = labelSelectorAsSelector(ds.spec?.selector);
    const revisions = sortControllerRevisions(this.history.list(ds, selector));
    let collisionCount = ds.status?.collisionCount ?? 0;
    const data = templatePatch(ds.spec?.template);
    const probe: ControllerRevision = { revision: 0, data: data as ControllerRevision['data'] };
    const existing = revisions.filter((r) => equalRevision(r, probe));
    const next = nextRevision(revisions);
    const last = existing[existing.length - 1];
    if (last !== undefined) {
      if (last !== revisions[revisions.length - 1]) await this.history.updateRevision(last, next);
      const hash = last.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (hash !== undefined) return { hash, collisionCount };
    }
    const template = ds.spec?.template;
    const created = await this.history.create(
      ds,
      DAEMONSET_GVK,
      template?.metadata?.labels,
      data,
      next,
      collisionCount,
      (c) => computeTemplateHash(template, c),
    );
    collisionCount = created.collisionCount;
    const hash =
      created.revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ??
      computeTemplateHash(template, collisionCount);
    return { hash, collisionCount };
  }

  private async manage(
    key: string,
    ds: DaemonSet,
    nodes: Node[],
    nodeToPods: Map<string, Pod[]>,
    hash: string,
  ): Promise<void> {
    const create: string[] = [];
    const del: Pod[] = [];
    for (const node of nodes) {
      const nodeName = node.metadata?.name ?? '';
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const pods = (nodeToPods.get(nodeName) ?? []).filter((p) => !terminating(p));
      if (shouldRun && pods.length === 0) {
        create.push(nodeName);
        continue;
      }
      if (!shouldContinueRunning) {
        del.push(...pods);
        continue;
      }
      if (!shouldRun) continue;
      // Failed pods are replaced; upstream backs off per node, the sync backoff covers us.
      const alive: Pod[] = [];
      for (const p of pods) {
        if (p.status?.phase === 'Failed') {
          del.push(p);
          this.recorder.event(
            ds,
            'Warning',
            'FailedDaemonPod',
            `Found failed daemon pod ${p.metadata?.namespace}/${p.metadata?.name} on node ${nodeName}, will try to kill it`,
          );
        } else alive.push(p);
      }
      if (alive.length === 0 && pods.length > 0) continue;
      if (alive.length > 1) {
        // Keep the oldest; with surge allowed keep one of each revision while rolling.
        const surging = maxSurgeOf(ds, 1) > 0;
        const keep = new Set<Pod>([alive[0] as Pod]);
        if (surging) {
          const updated = alive.find((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash);
          if (updated !== undefined) keep.add(updated);
        }
        for (const p of alive) if (!keep.has(p)) del.push(p);
      }
    }
    await this.syncNodes(key, ds, create, del, hash);
  }

  private async syncNodes(
    key: string,
    ds: DaemonSet,
    create: string[],
    del: Pod[],
    hash: string,
  ): Promise<void> {
    this.expectations.setExpectations(key, create.length, del.length);
    const ns = ds.metadata?.namespace ?? '';
    const errors: unknown[] = [];
    await Promise.all(
      create.map(async (nodeName) => {
        try {
          const pod = await this.client.resource(PODS).create(ns, this.newPod(ds, nodeName, hash));
          this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`);
        } catch (err) {
          this.expectations.creationObserved(key);
          errors.push(err);
          this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        }
      }),
    );
    await Promise.all(
      del.map(async (pod) => {
        try {
          const uid = pod.metadata?.uid;
          await this.client
            .resource(PODS)
            .delete(ns, pod.metadata?.name ?? '', uid !== undefined ? { preconditions: { uid } } : {});
          this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isNotFound(err) && !isConflict(err)) {
            errors.push(err);
            this.recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
          }
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  /** The daemon pod of ds for a node (pinned by node affinity, default tolerations added). */
  newPod(ds: DaemonSet, nodeName: string, hash: string): Pod {
    const t = JSON.parse(JSON.stringify(ds.spec?.template ?? {})) as NonNullable<
      DaemonSet['spec']
    >['template'];
    const spec = t.spec ?? { containers: [] };
    addDaemonTolerations(spec);
    spec.affinity = pinToNode(spec.affinity, nodeName);
    const meta = t.metadata ?? {};
    delete meta.creationTimestamp;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta,
        generateName: `${ds.metadata?.name ?? ''}-`,
        namespace: ds.metadata?.namespace ?? '',
        labels: {
          ...(meta.labels ?? {}),
          [CONTROLLER_REVISION_HASH_LABEL]: hash,
          [POD_TEMPLATE_GENERATION_LABEL]: String(ds.metadata?.generation ?? 1),
        },
        ownerReferences: [newControllerRef(ds, DAEMONSET_GVK)],
      },
      spec,
    };
  }

  // Outdated pods are replaced node by node: with maxSurge 0 delete up to maxUnavailable
  // of them (unavailable old pods first, they cost nothing); with surge, a new pod is
  // created beside an available old one and the old one goes once the new one is available.
  private async rollingUpdate(
    key: string,
    ds: DaemonSet,
    nodes: Node[],
    nodeToPods: Map<string, Pod[]>,
    hash: string,
  ): Promise<void> {
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const eligible = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun);
    const desired = eligible.length;
    const maxUnavailable = maxUnavailableOf(ds, desired);
    const maxSurge = maxSurgeOf(ds, desired);
    const available = (p: Pod): boolean => isPodAvailable(p, minReady, now);
    const updated = (p: Pod): boolean => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
    let numUnavailable = 0;
    const oldAvailable: Pod[] = [];
    const oldUnavailable: Pod[] = [];
    const surgeCandidates: string[] = [];
    const surgeDone: Pod[] = [];
    let surging = 0;
    for (const node of eligible) {
      const nodeName = node.metadata?.name ?? '';
      const pods = (nodeToPods.get(nodeName) ?? []).filter((p) => !terminating(p));
      const oldPod = pods.find((p) => !updated(p));
      const newPod = pods.find(updated);
      if (newPod === undefined && oldPod === undefined) {
        numUnavailable++;
        continue;
      }
      if (oldPod === undefined) {
        if (newPod !== undefined && !available(newPod)) numUnavailable++;
        continue;
      }
      if (maxSurge === 0) {
        if (available(oldPod)) oldAvailable.push(oldPod);
        else {
          numUnavailable++;
          oldUnavailable.push(oldPod);
        }
        continue;
      }
      if (newPod === undefined) {
        if (available(oldPod)) surgeCandidates.push(nodeName);
        else {
          numUnavailable++;
          oldUnavailable.push(oldPod);
        }
      } else {
        surging++;
        if (available(newPod)) surgeDone.push(oldPod);
      }
    }
    if (maxSurge === 0) {
      const budget = Math.max(0, maxUnavailable - numUnavailable);
      await this.syncNodes(key, ds, [], [...oldUnavailable, ...oldAvailable.slice(0, budget)], hash);
      return;
    }
    const create = surgeCandidates.slice(0, Math.max(0, maxSurge - surging));
    await this.syncNodes(key, ds, create, [...oldUnavailable, ...surgeDone], hash);
  }

  private async cleanupHistory(ds: DaemonSet, hash: string): Promise<void> {
    const selector = labelSelectorAsSelector(ds.spec?.selector);
    const live = new Set<string>([hash]);
    for (const pods of this.nodeToDaemonPods(ds).values()) {
      for (const p of pods) live.add(p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '');
    }
    const old = sortControllerRevisions(this.history.list(ds, selector)).filter(
      (r) => !live.has(r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? ''),
    );
    const excess = old.length - (ds.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT);
    for (let i = 0; i < excess; i++) {
      try {
        await this.history.delete(old[i] as ControllerRevision);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async updateStatus(
    ds: DaemonSet,
    nodes: Node[],
    nodeToPods: Map<string, Pod[]>,
    hash: string,
    collisionCount: number,
  ): Promise<void> {
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const s: DaemonSetStatus = {
      currentNumberScheduled: 0,
      desiredNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      numberAvailable: 0,
      updatedNumberScheduled: 0,
    };
    let pendingAvailability = false;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = (nodeToPods.get(node.metadata?.name ?? '') ?? []).filter((p) => !terminating(p));
      if (!shouldRun) {
        if (pods.length > 0) s.numberMisscheduled++;
        continue;
      }
      s.desiredNumberScheduled++;
      const pod = pods[0];
      if (pod === undefined) continue;
      s.currentNumberScheduled++;
      if (isPodReady(pod)) {
        s.numberReady++;
        if (isPodAvailable(pod, minReady, now)) s.numberAvailable = (s.numberAvailable ?? 0) + 1;
        else pendingAvailability = true;
      }
      if (pods.some((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash)) {
        s.updatedNumberScheduled = (s.updatedNumberScheduled ?? 0) + 1;
      }
    }
    s.numberUnavailable = s.desiredNumberScheduled - (s.numberAvailable ?? 0);
    s.observedGeneration = ds.metadata?.generation ?? 0;
    if (collisionCount > 0 || ds.status?.collisionCount !== undefined) s.collisionCount = collisionCount;
    const old = ds.status;
    const merged = omitZero<DaemonSetStatus>({ ...(old ?? {}), ...s }, [
      'updatedNumberScheduled',
      'numberAvailable',
      'numberUnavailable',
      'observedGeneration',
    ]);
    if (old === undefined || JSON.stringify(sorted(merged)) !== JSON.stringify(sorted(old))) {
      try {
        await this.client
          .resource(DAEMONSETS)
          .updateStatus(ds.metadata?.namespace ?? '', { ...ds, status: merged });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (pendingAvailability && minReady > 0) {
      this.loop.queue.addAfter(`${ds.metadata?.namespace ?? ''}/${ds.metadata?.name ?? ''}`, minReady * 1000);
    }
  }
}

function sorted(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** maxUnavailable of the rolling update, scaled to the desired count (at least 1 without surge). */
export function maxUnavailableOf(ds: DaemonSet, desired: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const v = getScaledValueFromIntOrPercent(ru?.maxUnavailable ?? 1, desired, true);
  const surge = maxSurgeOf(ds, desired);
  return v === 0 && surge === 0 ? 1 : v;
}

/** maxSurge of the rolling update, scaled to the desired count (rounded up). */
export function maxSurgeOf(ds: DaemonSet, desired: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  return getScaledValueFromIntOrPercent(ru?.maxSurge ?? 0, desired, true);
}
