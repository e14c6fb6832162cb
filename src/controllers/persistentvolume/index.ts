// Persistent storage controllers: `persistentvolume-binder` binds claims to volumes, runs
// reclaim policies and hands claims of a class to its (external) provisioner;
// `pvc-protection` and `pv-protection` hold the deletion of claims in use by pods and of
// volumes bound to claims. All three are clients of the API only and level-based.
import type { ControllerFactory } from '../types.js';
import { PersistentVolumeController } from './binder.js';
import { PVCProtectionController, PVProtectionController } from './protection.js';

export {
  PersistentVolumeController,
  PV_CONTROLLER_COMPONENT,
  PV_RESYNC_PERIOD_MS,
  STORAGECLASSES,
} from './binder.js';
export * from './matching.js';
export {
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  PVCProtectionController,
  PVProtectionController,
  podClaimNames,
  podUsesClaim,
} from './protection.js';

/** Builds the persistentvolume-binder controller. */
export const newPersistentVolumeBinderController: ControllerFactory = (ctx) =>
  new PersistentVolumeController(ctx);
/** Builds the pvc-protection controller. */
export const newPVCProtectionController: ControllerFactory = (ctx) => new PVCProtectionController(ctx);
/** Builds the pv-protection controller. */
export const newPVProtectionController: ControllerFactory = (ctx) => new PVProtectionController(ctx);
