// The local-path provisioner: the default `local-path` StorageClass and hostPath volumes under
// each node's storage directory for its claims (k3s's `rancher.io/local-path`), removed again
// by a helper pod on the node when a volume is released with reclaim policy Delete.
import type { ControllerFactory } from '../types.js';
import { LocalPathProvisioner } from './provisioner.js';

export {
  DEFAULT_LOCAL_PATH_DIR,
  deleteHelperPod,
  HELPER_NAMESPACE,
  LOCAL_PATH_CLASS,
  LOCAL_PATH_PROVISIONER,
  type LocalPathOptions,
  LocalPathProvisioner,
  localPathStorageClass,
  provisionedVolume,
  volumeDirectory,
  volumeNode,
} from './provisioner.js';

/** Builds the local-path-provisioner with the manager's `localPathDir` option. */
export const newLocalPathProvisioner: ControllerFactory = (ctx) =>
  new LocalPathProvisioner(ctx, { baseDir: ctx.options.localPathDir });
