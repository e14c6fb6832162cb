// Adoption and release by controllerRef (upstream's ControllerRefManager): a controller
// owns the objects whose controller reference names its uid; it adopts orphans its
// selector matches and releases objects it owns that no longer match. Adoption re-reads
// the owner first (upstream RecheckDeletionTimestamp), so a controller being deleted never
// adopts, and both writes are strategic merge patches carrying the object's uid, so they
// fail instead of touching a same-named successor. Also the pod creation helpers shared by
// workload controllers: pods from a template and upstream's slow-start batches.
import type { Pod, PodTemplateSpec } from '../../api/generated/types/core-v1.js';
import type { EventRecorder } from '../../client/events.js';
import type { KubeObject, ResourceClient } from '../../client/interface.js';
import type { Selector } from '../../machinery/labels/selector.js';
import {
  type GroupVersionKind,
  getControllerOfNoCopy,
  groupVersionString,
  type OwnerReference,
} from '../../machinery/owner-references.js';
import { isNotFound, StatusError } from '../../machinery/status-error.js';

/** How a claim writes: adopt or release one object. */
export interface ClaimOptions<T extends KubeObject> {
  /** The controller doing the claiming (as last read from the cache). */
  owner: KubeObject;
  ownerGVK: GroupVersionKind;
  selector: Selector;
  /** Client of the claimed objects' resource. */
  client: ResourceClient<T>;
  /** Re-reads the owner and returns it when adoption may go ahead (throws otherwise). */
  canAdopt: () => Promise<void>;
}

/** The owner reference a controller stamps (controller and blockOwnerDeletion true). */
export function controllerRef(owner: KubeObject, gvk: GroupVersionKind): OwnerReference {
  return {
    apiVersion: groupVersionString(gvk.group, gvk.version),
    kind: gvk.kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Returns the objects `owner` controls after adopting matching orphans and releasing strays. */
export async function claimObjects<T extends KubeObject>(
  objs: readonly T[],
  o: ClaimOptions<T>,
): Promise<T[]> {
  const claimed: T[] = [];
  const ownerUID = o.owner.metadata?.uid ?? '';
  const ownerDeleting = o.owner.metadata?.deletionTimestamp !== undefined;
  const ownerNS = o.owner.metadata?.namespace ?? '';
  let adoptionChecked: Promise<void> | undefined;
  const errors: unknown[] = [];
  for (const obj of objs) {
    const ref = getControllerOfNoCopy(obj);
    const matches = o.selector.matches(obj.metadata?.labels);
    try {
      if (ref !== undefined) {
        if (ref.uid !== ownerUID) continue;
        if (matches) {
          claimed.push(obj);
          continue;
        }
        if (ownerDeleting) continue;
        await release(obj, ownerUID, o.client);
        continue;
      }
      if (ownerDeleting || !matches || obj.metadata?.deletionTimestamp !== undefined) continue;
      if (ownerNS !== '' && ownerNS !== (obj.metadata?.namespace ?? '')) continue;
      adoptionChecked ??= o.canAdopt();
      await adoptionChecked;
      const adopted = await adopt(obj, o);
      claimed.push(adopted);
    } catch (err) {
      if (isNotFound(err)) continue;
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
  return claimed;
}

async function adopt<T extends KubeObject>(obj: T, o: ClaimOptions<T>): Promise<T> {
  const patch = {
    metadata: {
      ownerReferences: [controllerRef(o.owner, o.ownerGVK)],
      uid: obj.metadata?.uid ?? '',
    },
  };
  return o.client.patch(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', 'strategic', patch);
}

async function release<T extends KubeObject>(
  obj: T,
  ownerUID: string,
  client: ResourceClient<T>,
): Promise<void> {
  const patch = {
    metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUID }], uid: obj.metadata?.uid ?? '' },
  };
  try {
    await client.patch(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', 'strategic', patch);
  } catch (err) {
    // An object already gone, or whose uid changed, needs no release (upstream ignores both).
    if (isNotFound(err) || (err instanceof StatusError && err.code === 422)) return;
    throw err;
  }
}

/**
 * upstream RecheckDeletionTimestamp: a fresh read of the owner must have the same uid and
 * no deletionTimestamp before anything is adopted.
 */
export function recheckOwner(get: () => Promise<KubeObject>, uid: string, what: string): () => Promise<void> {
  return async () => {
    const fresh = await get();
    const m = fresh.metadata ?? {};
    if (m.uid !== uid) {
      throw new Error(`original ${what} is gone: got uid ${m.uid ?? ''}, wanted ${uid}`);
    }
    if (m.deletionTimestamp !== undefined) {
      throw new Error(`${what} has just been deleted at ${m.deletionTimestamp}`);
    }
  };
}

/** The `generateName` prefix of pods a controller creates (upstream getPodsPrefix). */
export function podNamePrefix(controllerName: string): string {
  // Controller names are DNS subdomains, so the dashed prefix always validates.
  return `${controllerName}-`;
}

/** A pod built from a controller's template (upstream GetPodFromTemplate). */
export function podFromTemplate(template: PodTemplateSpec, ownerName: string, ref: OwnerReference): Pod {
  const tm = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: podNamePrefix(ownerName),
      ...(tm.labels !== undefined ? { labels: { ...tm.labels } } : {}),
      ...(tm.annotations !== undefined ? { annotations: { ...tm.annotations } } : {}),
      ...(tm.finalizers !== undefined ? { finalizers: [...tm.finalizers] } : {}),
      ownerReferences: [ref],
    },
    spec: structuredClone(template.spec ?? { containers: [] }),
  };
  return pod;
}

/** Creates (or deletes) pods with upstream's events (`SuccessfulCreate`, `FailedDelete`, …). */
export class PodControl {
  /** Pod writes through `pods`, events through `recorder`. */
  constructor(
    private readonly pods: ResourceClient<Pod>,
    private readonly recorder: EventRecorder,
  ) {}

  /** Creates one pod from the template, owned by `owner`. */
  async createPod(
    namespace: string,
    template: PodTemplateSpec,
    owner: KubeObject,
    ref: OwnerReference,
  ): Promise<Pod> {
    const pod = podFromTemplate(template, owner.metadata?.name ?? '', ref);
    if (Object.keys(pod.metadata?.labels ?? {}).length === 0) {
      throw new Error('unable to create pods, no labels');
    }
    try {
      const created = await this.pods.create(namespace, pod);
      this.recorder.event(
        owner,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${created.metadata?.name ?? ''}`,
      );
      return created;
    } catch (err) {
      this.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${errMessage(err)}`);
      throw err;
    }
  }

  /** Deletes a pod owned by `owner`. */
  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.pods.delete(namespace, name);
      this.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${errMessage(err)}`);
      throw err;
    }
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** upstream's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

/**
 * Calls fn `count` times in batches of 1, 2, 4, … (upstream slowStartBatch), stopping after
 * the first batch with a failure, so a quota or admission error costs one call instead of
 * hundreds. Resolves to the successes and the first error, if any.
 */
export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: () => Promise<void>,
): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, error: failed[0]?.reason };
    remaining -= batch;
  }
  return { successes };
}
