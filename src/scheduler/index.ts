// The kube-scheduler core: pure scheduling logic with no I/O of its own. It takes pods,
// nodes and the few secondary objects plugins read as plain API objects through the
// Scheduler's add/update/delete entry points, decides, and writes bindings, conditions,
// nominations, victim deletions and events only through the injected SchedulerClient.
// framework/ holds the plugin interfaces, cache, snapshot and runtime; queue/ the
// scheduling queue; plugins/ the in-tree plugins under their upstream names.

export { type Clock, ManualClock, realClock } from './clock.js';
export {
  type EventType,
  type RecordedCall,
  RecordingSchedulerClient,
  type SchedulerClient,
} from './client.js';
export {
  CONFIG_API_VERSION,
  DEFAULT_SCHEDULER_NAME,
  defaultSchedulerConfig,
  type KubeSchedulerConfiguration,
  loadSchedulerConfig,
  resolveSchedulerConfig,
  type SchedulerConfig,
  SchedulerConfigError,
} from './config.js';
export * from './framework/index.js';
export { IN_TREE_PLUGINS } from './plugins/registry.js';
export { SchedulingQueue } from './queue/scheduling-queue.js';
export { numFeasibleNodesToFind } from './schedule-one.js';
export { Scheduler, type SchedulerLogger, type SchedulerOptions } from './scheduler.js';
