// DefaultStorageClass (upstream plugin/pkg/admission/storage/storageclass/setdefault): a
// claim that names no storage class (the field absent, not "") gets the cluster's default
// class, the one annotated `storageclass.kubernetes.io/is-default-class: "true"`; when
// several are marked, the newest wins, as upstream since 1.28.
import type { PersistentVolumeClaim } from '../../api/generated/types/core-v1.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { isResource, listObjects } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** The annotation that marks the default StorageClass. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

function isDefault(sc: KObject): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** The default StorageClass among `classes`, or undefined. */
export function defaultStorageClass(classes: KObject[]): KObject | undefined {
  const defaults = classes.filter(isDefault);
  defaults.sort((a, b) => {
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? 1 : -1;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
  return defaults[0];
}

/** The DefaultStorageClass plugin. */
export function defaultStorageClassAdmission(stores: StoreRegistry): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    async admit(req: AdmissionRequest): Promise<void> {
      if (!isResource(req, '', 'persistentvolumeclaims') || req.subresource !== '') return;
      if (req.operation !== 'CREATE') return;
      const pvc = req.object as unknown as PersistentVolumeClaim | undefined;
      if (!pvc || pvc.spec?.storageClassName !== undefined) return;
      const def = defaultStorageClass(await listObjects(stores, 'storage.k8s.io', 'storageclasses', ''));
      const name = def?.metadata?.name;
      if (!name) return;
      pvc.spec = { ...(pvc.spec ?? {}), storageClassName: name };
    },
  };
}
