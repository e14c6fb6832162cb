// StorageObjectInUseProtection (upstream plugin/pkg/admission/storage/storageobjectinuseprotection):
// every new PersistentVolumeClaim and PersistentVolume carries a protection finalizer, so the
// pvc/pv-protection controllers can hold its removal while a pod (or claim) still uses it.
import { isResource } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** Finalizer of claims in use by pods. */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
/** Finalizer of volumes bound to claims. */
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** The StorageObjectInUseProtection plugin. */
export function storageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: 'StorageObjectInUseProtection',
    admit(req: AdmissionRequest): void {
      if (req.operation !== 'CREATE' || req.subresource !== '' || !req.object) return;
      let finalizer: string;
      if (isResource(req, '', 'persistentvolumeclaims')) finalizer = PVC_PROTECTION_FINALIZER;
      else if (isResource(req, '', 'persistentvolumes')) finalizer = PV_PROTECTION_FINALIZER;
      else return;
      const m = req.object.metadata ?? {};
      req.object.metadata = m;
      const f = m.finalizers ?? [];
      if (!f.includes(finalizer)) m.finalizers = [...f, finalizer];
    },
  };
}
