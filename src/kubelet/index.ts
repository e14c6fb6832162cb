// The kubelet. Contract: `Kubelet` (kubelet.ts) registers its Node and keeps its status and
// Lease current, runs every pod whose spec.nodeName is this node through the CRI-shaped
// runtime in runtime/ (one serialized worker per pod), writes pod status through the
// status subresource, and removes a deleted pod's API object once its containers stopped.
// The runtime is the only record of running pods (labels `io.kubernetes.pod.uid`, …), so a
// restarted kubelet adopts them. Volumes, env, probes and status computation are pure
// helpers beside it. Static pods and their mirrors (static-pods.ts), pod and container
// cgroups (pod-resources.ts, runtime/cgroupfs.ts), the eviction manager (eviction.ts) and
// the stats it acts on and `/stats/summary` (node-stats.ts) complete the node agent; its
// events (kubelet-events.ts) go out through the client's EventBroadcaster, never awaited.

export {
  ContainerBackoff,
  crashLoopMessage,
  INITIAL_BACKOFF_MS,
  MAX_BACKOFF_MS,
} from './container-backoff.js';
export {
  containerEnv,
  EnvError,
  type EnvContext,
  type EnvSources,
  expandCommand,
  expandVars,
} from './env.js';
export {
  Kubelet,
  type KubeletNetworkOptions,
  type KubeletOptions,
  type KubeletServerConfig,
  podLogRoot,
  startKubelet,
} from './kubelet.js';
export {
  DEFAULT_EVICTION_HARD,
  EvictionManager,
  evictionMessage,
  localStorageViolation,
  parseThresholds,
  rankForEviction,
  type Threshold,
} from './eviction.js';
export { ContainerLifecycle, WaitingError } from './container-lifecycle.js';
export { syncEphemeralContainers } from './ephemeral-containers.js';
export { EventReason, KubeletEvents } from './kubelet-events.js';
export { NODE_LEASE_NAMESPACE, NodeLease } from './node-lease.js';
export {
  buildSummary,
  MachineStats,
  type NodeObservations,
  type PodUsage,
  type StatsProvider,
  type Summary,
} from './node-stats.js';
export {
  containerResources,
  milliCPUToQuota,
  milliCPUToShares,
  podCgroupLimits,
  podCgroupPath,
  qosCgroup,
} from './pod-resources.js';
export {
  CONFIG_HASH_ANNOTATION,
  CONFIG_MIRROR_ANNOTATION,
  CONFIG_SEEN_ANNOTATION,
  CONFIG_SOURCE_ANNOTATION,
  isMirrorPod,
  isStaticPod,
  MirrorPods,
  parseManifest,
  StaticPodSource,
} from './static-pods.js';
export { KUBELET_VERSION, type MachineInfo, NodeStatusManager, readMachineInfo } from './node-status.js';
export {
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  PodSyncer,
  removeCgroupDirs,
} from './pod-sync.js';
export { PodWorkers } from './pod-workers.js';
export { ProbeManager, runProbe } from './probes.js';
export { computePodStatus, podPhase, StatusManager } from './status-manager.js';
export { atomicWrite, memoryVolumeSize, mountsUnder, podDir, setUpVolumes } from './volumes.js';
