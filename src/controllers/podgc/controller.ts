// The pod garbage collector (upstream pkg/controller/podgc): every 20 s it force-deletes
// (1) terminated pods beyond `terminatedPodGCThreshold`, oldest first; (2) pods bound to
// nodes that no longer exist — once the node has been missing for a quarantine period and
// the API confirms it is gone, so a node that is merely late in the cache is not mistaken
// for a deleted one; (3) terminating pods that were never scheduled (no kubelet will ever
// finish their deletion). Before an orphaned or unscheduled pod is deleted it is marked
// Failed (orphans also get the DisruptionTarget condition, reason DeletionByPodGC): no
// kubelet will ever report its end, and Jobs and PDBs read why it went from its status.
import type { Node, Pod, PodCondition } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import type { Clock } from '../../client/clock.js';
import type { Client } from '../../client/interface.js';
import { errorText, type Logger } from '../../client/log.js';
import { NODES, PODS } from '../../client/resources.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import { isNotFound } from '../../machinery/status-error.js';
import { isPodTerminal } from '../endpoints/pod-util.js';
import { runPeriodically } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';

/** How often the collector runs (upstream gcCheckPeriod). */
export const GC_CHECK_PERIOD_MS = 20_000;
/** How long a node must be missing before its pods count as orphaned (upstream quarantineTime). */
export const QUARANTINE_MS = 40_000;

/** The condition an orphaned pod gets before deletion (upstream's, since PodDisruptionConditions). */
export const ORPHANED_POD_CONDITION = {
  type: 'DisruptionTarget',
  status: 'True',
  reason: 'DeletionByPodGC',
  message: 'PodGC: node no longer exists',
} as const;

/** The pod-garbage-collector controller. */
export class PodGCController implements Controller {
  readonly name = 'pod-garbage-collector';
  private readonly client: Client;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly threshold: number;
  /** Nodes referenced by pods but absent from the cache, with when we first noticed. */
  private readonly missingSince = new Map<string, number>();
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Builds the collector. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.threshold = ctx.options.terminatedPodGCThreshold;
    const p = ctx.informers.forResource(PODS);
    const n = ctx.informers.forResource(NODES);
    this.pods = p.lister;
    this.nodes = n.lister;
    this.synced = [p.informer, n.informer];
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runPeriodically(this.clock, GC_CHECK_PERIOD_MS, () => this.gc(), signal, this.log);
  }

  /** One collection pass. */
  async gc(): Promise<void> {
    const pods = this.pods.list();
    if (this.threshold > 0) await this.gcTerminated(pods);
    await this.gcOrphaned(pods);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter((p) => isPodTerminal(p) && p.metadata?.deletionTimestamp === undefined);
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return;
    terminated.sort(
      (a, b) =>
        (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') ||
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    );
    for (const pod of terminated.slice(0, excess))
      await this.forceDelete(pod, 'terminated pod over threshold');
  }

  private async gcOrphaned(pods: Pod[]): Promise<void> {
    const now = this.clock.now();
    const referenced = new Set<string>();
    for (const pod of pods) {
      const node = pod.spec?.nodeName ?? '';
      if (node !== '' && this.nodes.getByKey(node) === undefined) referenced.add(node);
    }
    for (const name of [...this.missingSince.keys()])
      if (!referenced.has(name)) this.missingSince.delete(name);
    const deleted = new Set<string>();
    for (const name of referenced) {
      const since = this.missingSince.get(name);
      if (since === undefined) {
        this.missingSince.set(name, now);
        continue;
      }
      if (now - since < QUARANTINE_MS) continue;
      try {
        await this.client.resource(NODES).get('', name);
        this.missingSince.delete(name);
      } catch (err) {
        if (isNotFound(err)) deleted.add(name);
        else this.log.error('checking node of orphaned pods failed', { node: name, error: errorText(err) });
      }
    }
    for (const pod of pods) {
      if (deleted.has(pod.spec?.nodeName ?? ''))
        await this.markFailedAndDelete(pod, 'orphaned pod on deleted node', ORPHANED_POD_CONDITION);
    }
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp !== undefined && (pod.spec?.nodeName ?? '') === '') {
        await this.markFailedAndDelete(pod, 'unscheduled terminating pod');
      }
    }
  }

  // Marks a pod Failed (with `condition`) unless it already finished, then deletes it
  // (upstream markFailedAndDeletePodWithCondition). The status patch carries the pod's uid,
  // so a pod re-created under the same name is never touched.
  private async markFailedAndDelete(pod: Pod, why: string, condition?: PodCondition): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    if (!isPodTerminal(pod)) {
      const status: NonNullable<Pod['status']> = { phase: 'Failed' };
      if (condition !== undefined) {
        const existing = (pod.status?.conditions ?? []).find((c) => c.type === condition.type);
        const lastTransitionTime =
          existing?.status === condition.status && existing.lastTransitionTime !== undefined
            ? existing.lastTransitionTime
            : formatTimestamp(this.clock.now());
        status.conditions = [{ ...condition, lastTransitionTime }];
      }
      try {
        await this.client
          .resource(PODS)
          .patch(
            ns,
            name,
            'strategic',
            { metadata: { uid: pod.metadata?.uid }, status },
            { subresource: 'status' },
          );
      } catch (err) {
        if (isNotFound(err)) return;
        this.log.error('pod GC status update failed', { pod: `${ns}/${name}`, error: errorText(err) });
        return;
      }
    }
    await this.forceDelete(pod, why);
  }

  private async forceDelete(pod: Pod, why: string): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    try {
      await this.client.resource(PODS).delete(ns, name, { gracePeriodSeconds: 0 });
      this.log.info('garbage-collected pod', { pod: `${ns}/${name}`, reason: why });
    } catch (err) {
      if (!isNotFound(err))
        this.log.error('pod GC delete failed', { pod: `${ns}/${name}`, error: errorText(err) });
    }
  }
}
