// Server-side warnings (upstream's WarningsOnCreate / WarningsOnUpdate texts) for pods and
// the kinds that carry pod templates. Pure functions: objects in, `Warning` header texts
// out; the registry's strategies decide when to ask and where the texts go.
export {
  deprecatedNodeLabelMessage,
  nodeSelectorTermWarnings,
  persistentVolumeClaimSpecWarnings,
  type PodTemplateLike,
  podSpecWarnings,
  podTemplateWarnings,
  podWarnings,
} from './pod-warnings.js';
export { overlappingVolumePathWarnings, volumeMappingOverlaps } from './volume-path-overlap.js';
export {
  hasWorkloadWarnings,
  jobSpecWarnings,
  podAppArmorAnnotationWarnings,
  type WorkloadObject,
  warningsOnCreate,
  warningsOnUpdate,
} from './workload-warnings.js';
