// The scheduling framework: Status and CycleState, one plugin interface per extension point,
// NodeInfo/PodInfo, the Cache with assumed pods and its incremental Snapshot, the runtime
// that runs a profile's plugins, and FitError with upstream's aggregated message.

export { Cache, type CacheOptions } from './cache.js';
export { CycleState, readState, type StateData } from './cycle-state.js';
export { ActionType, type ClusterEvent, type EventResource, Events, eventMatches } from './events.js';
export { type Diagnosis, FitError, fitErrorMessage, NodeStatusMap } from './fit-error.js';
export {
  type EnabledPlugin,
  EXTENSION_POINTS,
  type ExtensionPoint,
  Framework,
  type ProfileSpec,
} from './framework.js';
export * from './interfaces.js';
export { ClusterListers, type ListerKind, type MetaObject } from './listers.js';
export { HostPortInfo, NodeInfo, newNodeInfo } from './node-info.js';
export { type AffinityTerm, PodInfo, podInfoOf, podKey, podName, podPriority } from './pod-info.js';
export { Resource, computePodRequests } from './resource.js';
export { Snapshot } from './snapshot.js';
export { Code, isSuccess, newStatus, type PluginStatus, Status, type StatusCode } from './status.js';
