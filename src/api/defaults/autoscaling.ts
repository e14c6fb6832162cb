// Defaults of autoscaling/v2 HorizontalPodAutoscalers (upstream's SetDefaults_* of
// pkg/apis/autoscaling/v2): minReplicas 1, a CPU utilization target of 80% when no metric
// is given (so `kubectl autoscale` without --cpu-percent shows `cpu: <unknown>/80%`), and,
// only when a behavior is given, its unset scaling rules filled with the controller's
// defaults.
import type {
  HorizontalPodAutoscaler,
  HPAScalingPolicy,
  HPAScalingRules,
} from '../generated/types/autoscaling-v2.js';

/** The CPU utilization target an HPA without metrics gets. */
export const DEFAULT_CPU_UTILIZATION = 80;

function scalingRules(given: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  if (given === undefined) return defaults;
  const out: HPAScalingRules = { ...given };
  if (out.selectPolicy === undefined && defaults.selectPolicy !== undefined)
    out.selectPolicy = defaults.selectPolicy;
  if (out.stabilizationWindowSeconds === undefined && defaults.stabilizationWindowSeconds !== undefined)
    out.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  if (out.policies === undefined && defaults.policies !== undefined) out.policies = defaults.policies;
  return out;
}

function policy(type: 'Pods' | 'Percent', value: number): HPAScalingPolicy {
  return { type, value, periodSeconds: 15 };
}

/** Fills an autoscaling/v2 HorizontalPodAutoscaler's unset fields, in place. */
export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): void {
  const spec = hpa.spec;
  if (spec === undefined || spec === null) return;
  if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  if (spec.metrics === undefined || spec.metrics === null || spec.metrics.length === 0) {
    spec.metrics = [
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION },
        },
      },
    ];
  }
  const b = spec.behavior;
  if (b === undefined || b === null) return;
  // Scale-down's stabilization window stays unset: the controller's
  // --horizontal-pod-autoscaler-downscale-stabilization (5 min) applies.
  b.scaleUp = scalingRules(b.scaleUp, {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [policy('Pods', 4), policy('Percent', 100)],
  });
  b.scaleDown = scalingRules(b.scaleDown, { selectPolicy: 'Max', policies: [policy('Percent', 100)] });
}
