// The horizontal pod autoscaler controller (upstream `horizontalpodautoscaling`). Contract:
// every autoscaling/v2 HPA is reconciled once per sync period; its target is read and scaled
// through `/scale`, Resource and ContainerResource metrics come from metrics.k8s.io, and the
// replica count follows upstream's calculator (replica-calculator.ts) and normalization
// (behavior.ts). Custom, object and external metrics report upstream's "API not
// registered" failures: kts serves neither custom.metrics.k8s.io nor external.metrics.k8s.io.
import type { ControllerFactory } from '../types.js';
import { HorizontalController } from './controller.js';

export {
  conditionSummary,
  HORIZONTALPODAUTOSCALERS,
  HorizontalController,
  type HorizontalControllerDeps,
  HPA_EVENT_SOURCE,
  metricSpecs,
} from './controller.js';
export {
  completeBehavior,
  type ConditionUpdate,
  ScalingHistory,
  scaleDownLimit,
  scaleUpLimit,
} from './behavior.js';
export {
  type HPAMetricsClient,
  POD_METRICS,
  podMetricsInfo,
  RestHPAMetricsClient,
} from './metrics-client.js';
export {
  calculatePodRequests,
  getResourceUtilizationRatio,
  groupPods,
  plainMetricReplicas,
  type PodMetric,
  type PodMetricsInfo,
  type ReplicaCalculatorOptions,
  resourceReplicas,
} from './replica-calculator.js';
export { parseGroup, RestScaleClient, type ScaleClient, type ScaleTargetRef } from './scale-target.js';

/** Builds the HPA controller. */
export const newHorizontalPodAutoscalerController: ControllerFactory = (ctx) => new HorizontalController(ctx);
