// Controllers of pods: Deployments, ReplicaSets, StatefulSets, DaemonSets,
// ReplicationControllers, and the PodTemplates and ControllerRevisions they use.
import type {
  ControllerRevision,
  DaemonSet,
  Deployment,
  ReplicaSet,
  StatefulSet,
} from '../../api/generated/types/apps-v1.js';
import type { PodTemplate, ReplicationController } from '../../api/generated/types/core-v1.js';
import type { KObject } from '../registry/object.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  age,
  column,
  containerCells,
  formatLabels,
  int,
  nameOf,
  rawSelectorCell,
  selectorCell,
} from './format.js';
import type { ResourcePrinter } from './table.js';

const CONTAINERS_COLUMN = column('Containers', 'string', 'Container names of the pod template.', {
  wide: true,
});
const IMAGES_COLUMN = column('Images', 'string', 'Container images of the pod template.', { wide: true });
const SELECTOR_COLUMN = column('Selector', 'string', 'The label selector of the pods.', { wide: true });

// spec.replicas defaults to 1 for every workload; a stored object always has it set.
function replicas(v: unknown): number {
  return typeof v === 'number' ? v : 1;
}

/** Deployments: READY is ready/desired. */
export const DEPLOYMENTS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Ready pods out of desired pods.'),
    column('Up-to-date', 'string', 'Pods running the current template.'),
    column('Available', 'string', 'Pods available to serve.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj, ctx) {
    const d = obj as unknown as Deployment;
    const status = d.status;
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      `${int(status?.readyReplicas)}/${replicas(d.spec?.replicas)}`,
      int(status?.updatedReplicas),
      int(status?.availableReplicas),
      age(obj, ctx.nowMs),
      names,
      images,
      rawSelectorCell(d.spec?.selector),
    ];
  },
};

/** ReplicaSets. */
export const REPLICA_SETS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', 'Desired number of pods.'),
    column('Current', 'integer', 'Current number of pods.'),
    column('Ready', 'integer', 'Ready pods.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj, ctx) {
    const rs = obj as unknown as ReplicaSet;
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      replicas(rs.spec?.replicas),
      int(rs.status?.replicas),
      int(rs.status?.readyReplicas),
      age(obj, ctx.nowMs),
      names,
      images,
      selectorCell(rs.spec?.selector),
    ];
  },
};

/** ReplicationControllers: as ReplicaSets, with a plain label-map selector. */
export const REPLICATION_CONTROLLERS: ResourcePrinter = {
  columns: REPLICA_SETS.columns,
  cells(obj, ctx) {
    const rc = obj as unknown as ReplicationController;
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      replicas(rc.spec?.replicas),
      int(rc.status?.replicas),
      int(rc.status?.readyReplicas),
      age(obj, ctx.nowMs),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
};

/** StatefulSets: READY is ready/desired. */
export const STATEFUL_SETS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Ready pods out of desired pods.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
  ],
  cells(obj, ctx) {
    const ss = obj as unknown as StatefulSet;
    const [names, images] = containerCells(ss.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      `${int(ss.status?.readyReplicas)}/${replicas(ss.spec?.replicas)}`,
      age(obj, ctx.nowMs),
      names,
      images,
    ];
  },
};

/** DaemonSets. */
export const DAEMON_SETS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', 'Nodes that should run the daemon pod.'),
    column('Current', 'integer', 'Nodes running the daemon pod.'),
    column('Ready', 'integer', 'Nodes with a ready daemon pod.'),
    column('Up-to-date', 'integer', 'Nodes running the current template.'),
    column('Available', 'integer', 'Nodes with an available daemon pod.'),
    column('Node Selector', 'string', 'The node selector of the pod template.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj, ctx) {
    const ds = obj as unknown as DaemonSet;
    const s = ds.status;
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      nameOf(obj),
      int(s?.desiredNumberScheduled),
      int(s?.currentNumberScheduled),
      int(s?.numberReady),
      int(s?.updatedNumberScheduled),
      int(s?.numberAvailable),
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(obj, ctx.nowMs),
      names,
      images,
      selectorCell(ds.spec?.selector),
    ];
  },
};

/** PodTemplates (no AGE column upstream). */
export const POD_TEMPLATES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Containers', 'string', 'Container names of the template.'),
    column('Images', 'string', 'Container images of the template.'),
    column('Pod Labels', 'string', 'Labels of the template.'),
  ],
  cells(obj) {
    const pt = obj as unknown as PodTemplate;
    const [names, images] = containerCells(pt.template?.spec?.containers);
    return [nameOf(obj), names, images, formatLabels(pt.template?.metadata?.labels)];
  },
};

// Go's schema.GroupKind.String() lower-cased: `statefulset.apps`, or `pod` for the core group.
function groupKindLower(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return (group === '' ? kind : `${kind}.${group}`).toLowerCase();
}

/** `kind.group/name` of the controlling owner, `<none>` without one. */
export function controllerCell(obj: KObject): string {
  const refs = obj.metadata?.ownerReferences;
  if (Array.isArray(refs)) {
    for (const ref of refs) {
      if (ref.controller === true) {
        const gk = groupKindLower(ref.apiVersion ?? '', ref.kind ?? '');
        return gk === '' ? ref.name : `${gk}/${ref.name}`;
      }
    }
  }
  return '<none>';
}

/** ControllerRevisions (the history of DaemonSets and StatefulSets). */
export const CONTROLLER_REVISIONS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'string', 'The object that owns the revision.'),
    column('Revision', 'string', 'The revision number.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const cr = obj as unknown as ControllerRevision;
    return [nameOf(obj), controllerCell(obj), int(cr.revision), age(obj, ctx.nowMs)];
  },
};
