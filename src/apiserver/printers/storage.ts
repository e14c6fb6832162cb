// Storage: StorageClasses, CSIDrivers, CSINodes, CSIStorageCapacities, VolumeAttachments
// and VolumeAttributesClasses.
import type {
  CSIDriver,
  CSINode,
  CSIStorageCapacity,
  StorageClass,
  VolumeAttachment,
  VolumeAttributesClass,
} from '../../api/generated/types/storage-v1.js';
import { AGE_COLUMN, NAME_COLUMN, age, arr, column, nameOf, quantityCell } from './format.js';
import type { ResourcePrinter } from './table.js';

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

/** StorageClasses: the default class is marked `(default)`. */
export const STORAGE_CLASSES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'string', 'The volume plugin that provisions volumes.'),
    column('ReclaimPolicy', 'string', 'What happens to provisioned volumes when released.'),
    column('VolumeBindingMode', 'string', 'When volumes are bound and provisioned.'),
    column('AllowVolumeExpansion', 'string', 'Whether volumes may grow.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const sc = obj as unknown as StorageClass;
    const annotations = obj.metadata?.annotations;
    let name = nameOf(obj);
    if (
      annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' ||
      annotations?.[BETA_DEFAULT_CLASS_ANNOTATION] === 'true'
    ) {
      name += ' (default)';
    }
    return [
      name,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      age(obj, ctx.nowMs),
    ];
  },
};

/** CSIDrivers. */
export const CSI_DRIVERS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('AttachRequired', 'boolean', 'Whether volumes need an attach operation.'),
    column('PodInfoOnMount', 'boolean', 'Whether mounts receive pod information.'),
    column('StorageCapacity', 'boolean', 'Whether the driver reports storage capacity.'),
    column('TokenRequests', 'string', 'Audiences of the service account tokens the driver receives.'),
    column('RequiresRepublish', 'boolean', 'Whether volumes are republished periodically.'),
    column('Modes', 'string', 'Volume lifecycle modes the driver supports.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = (obj as unknown as CSIDriver).spec;
    const tokenRequests = Array.isArray(spec?.tokenRequests)
      ? spec.tokenRequests.map((t) => t.audience).join(',')
      : '<unset>';
    const modes = arr(spec?.volumeLifecycleModes).join(',');
    return [
      nameOf(obj),
      spec?.attachRequired ?? true,
      spec?.podInfoOnMount ?? false,
      spec?.storageCapacity ?? false,
      tokenRequests,
      spec?.requiresRepublish ?? false,
      modes === '' ? '<none>' : modes,
      age(obj, ctx.nowMs),
    ];
  },
};

/** CSINodes. */
export const CSI_NODES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Drivers', 'integer', 'CSI drivers registered on the node.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), arr((obj as unknown as CSINode).spec?.drivers).length, age(obj, ctx.nowMs)];
  },
};

/** CSIStorageCapacities (no AGE column upstream). */
export const CSI_STORAGE_CAPACITIES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('StorageClassName', 'string', 'The storage class the capacity is for.'),
    column('Capacity', 'string', 'The available capacity.'),
  ],
  cells(obj) {
    const c = obj as unknown as CSIStorageCapacity;
    const capacity = c.capacity === undefined || c.capacity === null ? '<unset>' : quantityCell(c.capacity);
    return [nameOf(obj), c.storageClassName ?? '', capacity];
  },
};

/** VolumeAttachments. */
export const VOLUME_ATTACHMENTS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Attacher', 'string', 'The attaching volume driver.', { format: 'name' }),
    column('PV', 'string', 'The persistent volume being attached.'),
    column('Node', 'string', 'The node the volume is attached to.'),
    column('Attached', 'boolean', 'Whether the attach operation succeeded.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const va = obj as unknown as VolumeAttachment;
    return [
      nameOf(obj),
      va.spec?.attacher ?? '',
      va.spec?.source?.persistentVolumeName ?? '',
      va.spec?.nodeName ?? '',
      va.status?.attached ?? false,
      age(obj, ctx.nowMs),
    ];
  },
};

/** VolumeAttributesClasses. */
export const VOLUME_ATTRIBUTES_CLASSES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('DriverName', 'string', 'The CSI driver the class is for.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), (obj as unknown as VolumeAttributesClass).driverName ?? '', age(obj, ctx.nowMs)];
  },
};
