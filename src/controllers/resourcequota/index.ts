// ResourceQuota status: `status.hard` mirrors the spec and `status.used` reports the
// namespace's usage (object counts, compute requests/limits of non-terminal pods, service
// and storage sub-resources) within the quota's scopes. Enforcement is admission's job.
import type { ControllerFactory } from '../types.js';
import { ResourceQuotaController } from './controller.js';

export { QUOTA_RESYNC_MS, RESOURCEQUOTAS, ResourceQuotaController } from './controller.js';
export * from './usage.js';

/** Builds the resourcequota controller. */
export const newResourceQuotaController: ControllerFactory = (ctx) => new ResourceQuotaController(ctx);
