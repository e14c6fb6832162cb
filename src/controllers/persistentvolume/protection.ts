// The storage-object-in-use protection controllers (upstream pkg/controller/volume/
// pvcprotection and pvprotection). Admission puts `kubernetes.io/pvc-protection` on every new
// claim and `kubernetes.io/pv-protection` on every new volume; these controllers add the
// finalizer to objects that lack it and remove it once the object is being deleted and no
// longer in use: a claim once no scheduled pod references it, a volume once it is not Bound.
// Until then the API server keeps the object (with its deletionTimestamp), so data in use is
// never pulled from under a running pod.
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  splitKey,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from '../../client/resources.js';
import type { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isNotFound } from '../../machinery/status-error.js';
import {
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
} from '../../apiserver/admission/storage-object-in-use-protection.js';
import { SyncLoop } from '../common/sync-loop.js';
import type { Controller, ControllerContext } from '../types.js';

export { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER };

/** The claim names a pod's volumes refer to (generic ephemeral volumes included). */
export function podClaimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim !== undefined) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral !== undefined) out.push(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * True when the pod holds the claim (upstream podUsesPVC): only scheduled pods count, since
 * a kubelet never starts a pod whose claim is being deleted; an ephemeral claim stops counting
 * once its pod finished.
 */
export function podUsesClaim(pod: Pod, claimName: string): boolean {
  if ((pod.spec?.nodeName ?? '') === '') return false;
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName === claimName) return true;
    if (
      v.ephemeral !== undefined &&
      !isTerminal(pod) &&
      `${pod.metadata?.name ?? ''}-${v.name}` === claimName
    )
      return true;
  }
  return false;
}

// Returns `finalizers` with or without `f`, or undefined when nothing changes.
function withFinalizer(
  finalizers: readonly string[] | undefined,
  f: string,
  present: boolean,
): string[] | undefined {
  const has = (finalizers ?? []).includes(f);
  if (has === present) return undefined;
  return present ? [...(finalizers ?? []), f] : (finalizers ?? []).filter((x) => x !== f);
}

/** The pvc-protection controller. */
export class PVCProtectionController implements Controller {
  readonly name = 'pvc-protection';
  /** Claim keys waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly log: Logger;
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly pods: Lister<Pod>;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.loop = new SyncLoop('pvcprotection', ctx.log, ctx.clock);
    this.queue = this.loop.queue;
    const pvc = ctx.informers.forResource(PERSISTENTVOLUMECLAIMS);
    const pod = ctx.informers.forResource(PODS);
    this.claims = pvc.lister;
    this.pods = pod.lister;
    this.synced = [pvc.informer, pod.informer];
    const onClaim = (o: PersistentVolumeClaim | DeletedFinalStateUnknown<PersistentVolumeClaim>): void => {
      const c = unwrapTombstone(o);
      const m = c.metadata;
      // Only claims that need a finalizer added or may lose it are worth a sync.
      const has = (m?.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER);
      if ((m?.deletionTimestamp !== undefined) === has) this.queue.add(metaNamespaceKeyFunc(c));
    };
    pvc.informer.addEventHandler({ onAdd: onClaim, onUpdate: (_o, n) => onClaim(n) });
    // A pod going away (or finishing) may free the claims it used.
    const onPod = (o: Pod | DeletedFinalStateUnknown<Pod>): void => {
      const p = unwrapTombstone(o);
      const ns = p.metadata?.namespace ?? '';
      for (const name of podClaimNames(p)) this.queue.add(`${ns}/${name}`);
    };
    pod.informer.addEventHandler({
      onAdd: onPod,
      onUpdate: (old, n) => {
        if (isTerminal(n) !== isTerminal(old) || n.metadata?.deletionTimestamp !== undefined) onPod(n);
      },
      onDelete: onPod,
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.loop.run(signal, 1, (k) => this.sync(k), this.synced);
  }

  /** Adds the finalizer to a live claim, removes it from a deleted claim no pod uses. */
  async sync(key: string): Promise<void> {
    const claim = this.claims.getByKey(key);
    if (claim === undefined) return;
    const deleting = claim.metadata?.deletionTimestamp !== undefined;
    if (deleting && (await this.inUse(claim))) return;
    const finalizers = withFinalizer(claim.metadata?.finalizers, PVC_PROTECTION_FINALIZER, !deleting);
    if (finalizers === undefined) return;
    const next = structuredClone(claim);
    next.metadata = { ...(next.metadata ?? {}), finalizers };
    try {
      await this.client.resource(PERSISTENTVOLUMECLAIMS).update(splitKey(key).namespace, next);
      this.log.info(deleting ? 'removed PVC protection finalizer' : 'added PVC protection finalizer', {
        pvc: key,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // The cache first; when it finds no user, a live list confirms (upstream askAPIServer), so
  // a pod the cache has not seen yet cannot lose its claim.
  private async inUse(claim: PersistentVolumeClaim): Promise<boolean> {
    const ns = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    if (
      this.pods
        .namespace(ns)
        .list()
        .some((p) => podUsesClaim(p, name))
    )
      return true;
    const live = await this.client.resource(PODS).list(ns);
    return live.items.some((p) => podUsesClaim(p, name));
  }
}

/** The pv-protection controller. */
export class PVProtectionController implements Controller {
  readonly name = 'pv-protection';
  /** Volume names waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly loop: SyncLoop;
  private readonly client: Client;
  private readonly log: Logger;
  private readonly volumes: Lister<PersistentVolume>;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.loop = new SyncLoop('pvprotection', ctx.log, ctx.clock);
    this.queue = this.loop.queue;
    const pv = ctx.informers.forResource(PERSISTENTVOLUMES);
    this.volumes = pv.lister;
    this.synced = [pv.informer];
    const onVolume = (o: PersistentVolume | DeletedFinalStateUnknown<PersistentVolume>): void =>
      this.queue.add(unwrapTombstone(o).metadata?.name ?? '');
    pv.informer.addEventHandler({ onAdd: onVolume, onUpdate: (_o, n) => onVolume(n) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.loop.run(signal, 1, (k) => this.sync(k), this.synced);
  }

  /** Adds the finalizer to a live volume, removes it from a deleted volume that is not Bound. */
  async sync(name: string): Promise<void> {
    const volume = this.volumes.getByKey(name);
    if (volume === undefined) return;
    const deleting = volume.metadata?.deletionTimestamp !== undefined;
    if (deleting && volume.status?.phase === 'Bound') return;
    const finalizers = withFinalizer(volume.metadata?.finalizers, PV_PROTECTION_FINALIZER, !deleting);
    if (finalizers === undefined) return;
    const next = structuredClone(volume);
    next.metadata = { ...(next.metadata ?? {}), finalizers };
    try {
      await this.client.resource(PERSISTENTVOLUMES).update('', next);
      this.log.info(deleting ? 'removed PV protection finalizer' : 'added PV protection finalizer', {
        pv: name,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
