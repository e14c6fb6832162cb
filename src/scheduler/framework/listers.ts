// The secondary objects some plugins read (upstream's informer listers): namespaces for
// namespaceSelector, PVCs/PVs/StorageClasses for VolumeBinding, PDBs for preemption, and
// services/workloads for PodTopologySpread's default constraints. Fed by the Scheduler's
// upsert/delete entry points; plain maps, no I/O.

import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/generated/types/core-v1.js';
import type { PodDisruptionBudget } from '../../api/generated/types/policy-v1.js';
import type { StorageClass } from '../../api/generated/types/storage-v1.js';
import type { Labels } from '../../machinery/labels/selector.js';

/** A minimal object with metadata, for the generic maps. */
export interface MetaObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  /** Kind-specific; the typed accessors below narrow it. */
  spec?: unknown;
}

/** A Service, ReplicationController, ReplicaSet or StatefulSet reduced to what defaulting needs. */
export interface SelectingObject {
  metadata?: MetaObject['metadata'];
  spec?: {
    selector?:
      | Record<string, string>
      | { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }
      | null;
  };
}

/** The kinds ClusterListers keeps. */
export type ListerKind =
  | 'Namespace'
  | 'PersistentVolumeClaim'
  | 'PersistentVolume'
  | 'StorageClass'
  | 'PodDisruptionBudget'
  | 'Service'
  | 'ReplicationController'
  | 'ReplicaSet'
  | 'StatefulSet';

function keyOf(o: MetaObject): string {
  const ns = o.metadata?.namespace;
  return ns === undefined || ns === '' ? (o.metadata?.name ?? '') : `${ns}/${o.metadata?.name ?? ''}`;
}

/** In-memory stores of the secondary objects, keyed by [namespace/]name. */
export class ClusterListers {
  private readonly stores = new Map<ListerKind, Map<string, MetaObject>>();
  /**
   * Bumped on every Namespace change: values derived from namespace labels (affinity terms
   * with a namespaceSelector) name it in their memo keys, since a label change on a
   * namespace changes no NodeInfo's generation.
   */
  namespaceGeneration = 0;

  /** Adds or replaces an object. */
  upsert(kind: ListerKind, obj: MetaObject): void {
    if (kind === 'Namespace') this.namespaceGeneration++;
    let m = this.stores.get(kind);
    if (m === undefined) {
      m = new Map();
      this.stores.set(kind, m);
    }
    m.set(keyOf(obj), obj);
  }

  /** Removes an object. */
  delete(kind: ListerKind, obj: MetaObject): void {
    if (kind === 'Namespace') this.namespaceGeneration++;
    this.stores.get(kind)?.delete(keyOf(obj));
  }

  /** An object by kind and key (`ns/name` or `name`). */
  get(kind: ListerKind, key: string): MetaObject | undefined {
    return this.stores.get(kind)?.get(key);
  }

  /** All objects of a kind (optionally in a namespace). */
  list(kind: ListerKind, namespace?: string): MetaObject[] {
    const m = this.stores.get(kind);
    if (m === undefined) return [];
    const all = [...m.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? '') === namespace);
  }

  /** True when at least one object of the kind is stored. */
  has(kind: ListerKind): boolean {
    return (this.stores.get(kind)?.size ?? 0) > 0;
  }

  /** A namespace's labels (undefined when the namespace is unknown). */
  namespaceLabels(name: string): Labels | undefined {
    return this.get('Namespace', name)?.metadata?.labels;
  }

  /** A PVC by namespace and name. */
  pvc(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.get('PersistentVolumeClaim', `${namespace}/${name}`) as PersistentVolumeClaim | undefined;
  }

  /** A PV by name. */
  pv(name: string): PersistentVolume | undefined {
    return this.get('PersistentVolume', name) as PersistentVolume | undefined;
  }

  /** Every PV. */
  pvs(): PersistentVolume[] {
    return this.list('PersistentVolume') as PersistentVolume[];
  }

  /** A StorageClass by name. */
  storageClass(name: string): StorageClass | undefined {
    return this.get('StorageClass', name) as StorageClass | undefined;
  }

  /** Every PDB. */
  pdbs(): PodDisruptionBudget[] {
    return this.list('PodDisruptionBudget') as PodDisruptionBudget[];
  }

  /** Services, RCs, RSs and StatefulSets in a namespace (for default spreading selectors). */
  selectingObjects(
    kind: 'Service' | 'ReplicationController' | 'ReplicaSet' | 'StatefulSet',
    ns: string,
  ): SelectingObject[] {
    return this.list(kind, ns) as SelectingObject[];
  }
}

/** The pod's namespace. */
export function podNamespace(pod: Pod): string {
  return pod.metadata?.namespace ?? '';
}
