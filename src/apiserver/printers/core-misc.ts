// The smaller core kinds: Namespaces, ConfigMaps, Secrets, ServiceAccounts, Events (core
// and events.k8s.io), ResourceQuotas, PersistentVolumes and claims, ComponentStatuses.
// LimitRanges have no printer upstream and get the default table.
import type {
  ComponentStatus,
  Event,
  PersistentVolume,
  PersistentVolumeClaim,
  ResourceQuota,
  Secret,
  ServiceAccount,
} from '../../api/generated/types/core-v1.js';
import type { Event as EventsV1Event } from '../../api/generated/types/events-v1.js';
import type { KObject } from '../registry/object.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  age,
  arr,
  byteCompare,
  column,
  countKeys,
  nameOf,
  parseTime,
  quantityCell,
  since,
  str,
} from './format.js';
import type { PrintContext, ResourcePrinter } from './table.js';

/** Namespaces. */
export const NAMESPACES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Status', 'string', 'Active or Terminating.'), AGE_COLUMN],
  cells(obj, ctx) {
    const status = obj.status as { phase?: string } | undefined;
    return [nameOf(obj), status?.phase ?? '', age(obj, ctx.nowMs)];
  },
};

/** ConfigMaps: DATA counts data and binaryData keys. */
export const CONFIG_MAPS: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Data', 'string', 'Number of keys.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), countKeys(obj.data) + countKeys(obj.binaryData), age(obj, ctx.nowMs)];
  },
};

/** Secrets. */
export const SECRETS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', 'The type of the secret.'),
    column('Data', 'string', 'Number of keys.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const s = obj as unknown as Secret;
    return [nameOf(obj), s.type ?? '', countKeys(s.data), age(obj, ctx.nowMs)];
  },
};

/** ServiceAccounts. */
export const SERVICE_ACCOUNTS: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Secrets', 'string', 'Number of referenced secrets.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), arr((obj as unknown as ServiceAccount).secrets).length, age(obj, ctx.nowMs)];
  },
};

// The fields the event printer reads, taken from either API of events.
interface EventView {
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  eventTime: unknown;
  count: number;
  series: { count?: number; lastObservedTime?: string } | undefined;
  kind: string;
  name: string;
  fieldPath: string;
  component: string;
  host: string;
  reportingController: string;
  reportingInstance: string;
  type: string;
  reason: string;
  message: string;
}

function coreEventView(e: Event): EventView {
  return {
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
    count: e.count ?? 0,
    series: e.series ?? undefined,
    kind: str(e.involvedObject?.kind),
    name: str(e.involvedObject?.name),
    fieldPath: str(e.involvedObject?.fieldPath),
    component: str(e.source?.component),
    host: str(e.source?.host),
    reportingController: str(e.reportingComponent),
    reportingInstance: str(e.reportingInstance),
    type: str(e.type),
    reason: str(e.reason),
    message: str(e.message),
  };
}

// events.k8s.io/v1 converts to the core event upstream prints: regarding is the
// involved object, note the message, the deprecated* fields the old ones.
function eventsV1View(e: EventsV1Event): EventView {
  return {
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    eventTime: e.eventTime,
    count: e.deprecatedCount ?? 0,
    series: e.series ?? undefined,
    kind: str(e.regarding?.kind),
    name: str(e.regarding?.name),
    fieldPath: str(e.regarding?.fieldPath),
    component: str(e.deprecatedSource?.component),
    host: str(e.deprecatedSource?.host),
    reportingController: str(e.reportingController),
    reportingInstance: str(e.reportingInstance),
    type: str(e.type),
    reason: str(e.reason),
    message: str(e.note),
  };
}

function eventCells(obj: KObject, v: EventView, ctx: PrintContext): unknown[] {
  const first =
    parseTime(v.firstTimestamp) === undefined
      ? since(v.eventTime, ctx.nowMs)
      : since(v.firstTimestamp, ctx.nowMs);
  let last = parseTime(v.lastTimestamp) === undefined ? first : since(v.lastTimestamp, ctx.nowMs);
  let count = v.count;
  if (v.series) {
    last = since(v.series.lastObservedTime, ctx.nowMs);
    count = v.series.count ?? 0;
  } else if (count === 0) {
    // Singleton events of the new API carry no count.
    count = 1;
  }
  const kind = v.kind.toLowerCase();
  const target = v.name !== '' ? `${kind}/${v.name}` : kind;
  const component = v.component || v.reportingController;
  const instance = v.host || v.reportingInstance;
  const source = instance === '' ? component : `${component}, ${instance}`;
  return [last, v.type, v.reason, target, v.fieldPath, source, v.message.trim(), first, count, nameOf(obj)];
}

const EVENT_COLUMNS = [
  column('Last Seen', 'string', 'Time since the event was last seen.'),
  column('Type', 'string', 'Normal or Warning.'),
  column('Reason', 'string', 'Why the event happened, in one word.'),
  column('Object', 'string', 'The object the event is about.'),
  column('Subobject', 'string', 'The part of the object the event is about.', { wide: true }),
  column('Source', 'string', 'The component that reported the event.', { wide: true }),
  column('Message', 'string', 'What happened.'),
  column('First Seen', 'string', 'Time since the event was first seen.', { wide: true }),
  column('Count', 'string', 'How many times the event happened.', { wide: true }),
  column('Name', 'string', 'Name of the event object.', { wide: true, format: 'name' }),
];

/** Events of the core API. */
export const EVENTS: ResourcePrinter = {
  columns: EVENT_COLUMNS,
  cells(obj, ctx) {
    return eventCells(obj, coreEventView(obj as unknown as Event), ctx);
  },
};

/** Events of events.k8s.io (printed as their core form upstream). */
export const EVENTS_V1: ResourcePrinter = {
  columns: EVENT_COLUMNS,
  cells(obj, ctx) {
    return eventCells(obj, eventsV1View(obj as unknown as EventsV1Event), ctx);
  },
};

/** ResourceQuotas: `resource: used/hard` pairs, limits.* in LIMIT and the rest in REQUEST. */
export const RESOURCE_QUOTAS: ResourcePrinter = {
  // 1.32 order; Age moved to the end only in 1.33.
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    column('Request', 'string', 'Used and hard amounts of requests and object counts.'),
    column('Limit', 'string', 'Used and hard amounts of limits.'),
  ],
  cells(obj, ctx) {
    const rq = obj as unknown as ResourceQuota;
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort(byteCompare)) {
      const pair = `${resource}: ${quantityCell(used[resource])}/${quantityCell(hard[resource])}`;
      const dot = resource.indexOf('.');
      if (dot > 0 && resource.slice(0, dot) === 'limits') limits.push(pair);
      else requests.push(pair);
    }
    return [nameOf(obj), age(obj, ctx.nowMs), requests.join(', '), limits.join(', ')];
  },
};

/** Access modes as `RWO,ROX,RWX,RWOP` in that order (upstream's GetAccessModesAsString). */
export function accessModesCell(modes: string[] | undefined): string {
  const set = new Set(arr(modes));
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

// The beta annotation, when present, wins over spec.storageClassName.
function storageClassOf(obj: KObject, specClass: string | undefined): string {
  const annotated = obj.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated;
  return specClass ?? '';
}

/** PersistentVolumes. */
export const PERSISTENT_VOLUMES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Capacity', 'string', 'The storage capacity.'),
    column('Access Modes', 'string', 'How the volume can be mounted.'),
    column('Reclaim Policy', 'string', 'What happens to the volume when released.'),
    column('Status', 'string', 'The phase of the volume.'),
    column('Claim', 'string', 'The claim bound to the volume.'),
    column('StorageClass', 'string', 'The storage class of the volume.'),
    column('VolumeAttributesClass', 'string', 'The volume attributes class of the volume.'),
    column('Reason', 'string', 'Why the volume is in its phase.'),
    AGE_COLUMN,
    column('VolumeMode', 'string', 'Filesystem or Block.', { wide: true }),
  ],
  cells(obj, ctx) {
    const pv = obj as unknown as PersistentVolume;
    const spec = pv.spec;
    const claim = spec?.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    return [
      nameOf(obj),
      quantityCell(spec?.capacity?.storage),
      accessModesCell(spec?.accessModes),
      spec?.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      storageClassOf(obj, spec?.storageClassName),
      spec?.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      age(obj, ctx.nowMs),
      spec?.volumeMode ?? '<unset>',
    ];
  },
};

/** PersistentVolumeClaims: capacity and access modes only once bound to a volume. */
export const PERSISTENT_VOLUME_CLAIMS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The phase of the claim.'),
    column('Volume', 'string', 'The volume bound to the claim.'),
    column('Capacity', 'string', 'The capacity of the bound volume.'),
    column('Access Modes', 'string', 'How the bound volume can be mounted.'),
    column('StorageClass', 'string', 'The storage class of the claim.'),
    column('VolumeAttributesClass', 'string', 'The volume attributes class of the claim.'),
    AGE_COLUMN,
    column('VolumeMode', 'string', 'Filesystem or Block.', { wide: true }),
  ],
  cells(obj, ctx) {
    const pvc = obj as unknown as PersistentVolumeClaim;
    const spec = pvc.spec;
    const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    const volumeName = spec?.volumeName ?? '';
    let capacity = '';
    let accessModes = '';
    if (volumeName !== '') {
      accessModes = accessModesCell(pvc.status?.accessModes);
      capacity = quantityCell(pvc.status?.capacity?.storage);
    }
    return [
      nameOf(obj),
      phase,
      volumeName,
      capacity,
      accessModes,
      storageClassOf(obj, spec?.storageClassName),
      spec?.volumeAttributesClassName ?? '<unset>',
      age(obj, ctx.nowMs),
      spec?.volumeMode ?? '<unset>',
    ];
  },
};

/** ComponentStatuses (deprecated, but `kubectl get cs` still asks). */
export const COMPONENT_STATUSES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'Healthy, Unhealthy or Unknown.'),
    column('Message', 'string', 'Message of the Healthy condition.'),
    column('Error', 'string', 'Error of the Healthy condition.'),
  ],
  cells(obj) {
    const cs = obj as unknown as ComponentStatus;
    let status = 'Unknown';
    let message = '';
    let error = '';
    for (const c of arr(cs.conditions)) {
      if (c.type === 'Healthy') {
        status = c.status === 'True' ? 'Healthy' : 'Unhealthy';
        message = c.message ?? '';
        error = c.error ?? '';
        break;
      }
    }
    return [nameOf(obj), status, message, error];
  },
};
