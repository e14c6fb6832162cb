// From a metric's recommendation to the replica count the HPA sets (upstream's
// normalizeDesiredReplicas and normalizeDesiredReplicasWithBehaviors). Recommendations are
// remembered per HPA: without `behavior`, a scale-down takes the highest recommendation of
// the downscale stabilization window (5 min) and a scale-up is capped at max(2×current, 4);
// with `behavior`, the count is held between the lowest recommendation of the scale-up
// window and the highest of the scale-down window, then limited by the policies (Pods or
// Percent per period, combined by selectPolicy Max/Min, or Disabled) against the scale
// events of each period, and always by minReplicas/maxReplicas. Each step reports the
// AbleToScale and ScalingLimited condition upstream sets.

import type {
  HorizontalPodAutoscalerBehavior,
  HPAScalingRules,
} from '../../api/generated/types/autoscaling-v2.js';

const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;
const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** A condition the normalization wants set: [type, status, reason, message]. */
export type ConditionUpdate = [type: string, status: 'True' | 'False', reason: string, message: string];

interface TimestampedRecommendation {
  recommendation: number;
  timestampMs: number;
}

/** One rescale remembered for the rate policies. */
export interface ScaleEvent {
  /** Replicas added (scale-up) or removed (scale-down), never negative. */
  replicaChange: number;
  timestampMs: number;
  outdated: boolean;
}

/** Complete scaling rules (every field set). */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[];
}

function completeRules(from: HPAScalingRules | undefined, defaults: ScalingRules): ScalingRules {
  return {
    stabilizationWindowSeconds: from?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: (from?.selectPolicy as ScalingRules['selectPolicy'] | undefined) ?? defaults.selectPolicy,
    policies:
      from?.policies !== undefined
        ? from.policies.map((p) => ({
            type: p.type as 'Pods' | 'Percent',
            value: p.value,
            periodSeconds: p.periodSeconds,
          }))
        : defaults.policies,
  };
}

/**
 * The behavior with upstream's defaults filled in (GenerateHPAScaleUpRules and
 * GenerateHPAScaleDownRules; the scale-down window defaults to the controller's setting).
 */
export function completeBehavior(
  b: HorizontalPodAutoscalerBehavior,
  downscaleStabilizationMs: number,
): { scaleUp: ScalingRules; scaleDown: ScalingRules } {
  return {
    scaleUp: completeRules(b.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    }),
    scaleDown: completeRules(b.scaleDown, {
      stabilizationWindowSeconds: Math.trunc(downscaleStabilizationMs / 1000),
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    }),
  };
}

function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.timestampMs > cutoff) sum += e.replicaChange;
  return sum;
}

/** The highest count the scale-up rules allow now (upstream calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimit(
  currentReplicas: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  rules: ScalingRules,
  nowMs: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const min = rules.selectPolicy === 'Min';
  let result = min ? INT32_MAX : INT32_MIN;
  for (const p of rules.policies) {
    const start =
      currentReplicas -
      changeInPeriod(p.periodSeconds, upEvents, nowMs) +
      changeInPeriod(p.periodSeconds, downEvents, nowMs);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = min ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The lowest count the scale-down rules allow now (upstream calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimit(
  currentReplicas: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  rules: ScalingRules,
  nowMs: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const min = rules.selectPolicy === 'Min';
  let result = min ? INT32_MIN : INT32_MAX;
  for (const p of rules.policies) {
    const start =
      currentReplicas -
      changeInPeriod(p.periodSeconds, upEvents, nowMs) +
      changeInPeriod(p.periodSeconds, downEvents, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = min ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** What one normalization needs to know about the HPA. */
export interface NormalizationInput {
  key: string;
  currentReplicas: number;
  /** The metrics' recommendation before normalization. */
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior?: HorizontalPodAutoscalerBehavior;
}

/** The normalized count and the conditions to set on the way. */
export interface NormalizationResult {
  replicas: number;
  conditions: ConditionUpdate[];
}

/** Recommendation and scale-event history of every HPA this controller handles. */
export class ScalingHistory {
  private readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly upEvents = new Map<string, ScaleEvent[]>();
  private readonly downEvents = new Map<string, ScaleEvent[]>();

  /** History whose scale-down window defaults to `downscaleStabilizationMs`. */
  constructor(private readonly downscaleStabilizationMs: number) {}

  /** Forgets a deleted HPA. */
  forget(key: string): void {
    this.recommendations.delete(key);
    this.upEvents.delete(key);
    this.downEvents.delete(key);
  }

  /** The first recommendation of an HPA is its target's current count. */
  recordInitial(key: string, currentReplicas: number, nowMs: number): void {
    if (!this.recommendations.has(key))
      this.recommendations.set(key, [{ recommendation: currentReplicas, timestampMs: nowMs }]);
  }

  /** Normalizes a recommendation (see the file comment). */
  normalize(i: NormalizationInput, nowMs: number): NormalizationResult {
    return i.behavior === undefined
      ? this.withoutBehavior(i, nowMs)
      : this.withBehavior(i, i.behavior, nowMs);
  }

  private record(key: string, recommendation: number, isOld: (t: number) => boolean, nowMs: number): void {
    const list = this.recommendations.get(key) ?? [];
    let old = -1;
    list.forEach((r, i) => {
      if (isOld(r.timestampMs)) old = i;
    });
    const rec = { recommendation, timestampMs: nowMs };
    if (old >= 0) list[old] = rec;
    else list.push(rec);
    this.recommendations.set(key, list);
  }

  private withoutBehavior(i: NormalizationInput, nowMs: number): NormalizationResult {
    const cutoff = nowMs - this.downscaleStabilizationMs;
    let stabilized = i.desiredReplicas;
    for (const r of this.recommendations.get(i.key) ?? [])
      if (r.timestampMs >= cutoff && r.recommendation > stabilized) stabilized = r.recommendation;
    this.record(i.key, i.desiredReplicas, (t) => t < cutoff, nowMs);
    const conditions: ConditionUpdate[] = [
      stabilized !== i.desiredReplicas
        ? [
            'AbleToScale',
            'True',
            'ScaleDownStabilized',
            'recent recommendations were higher than current one, applying the highest recent recommendation',
          ]
        : ['AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size'],
    ];
    const upLimit = Math.max(SCALE_UP_LIMIT_FACTOR * i.currentReplicas, SCALE_UP_LIMIT_MINIMUM);
    let max = i.maxReplicas;
    let reason = 'TooManyReplicas';
    let message = 'the desired replica count is more than the maximum replica count';
    if (i.maxReplicas > upLimit) {
      max = upLimit;
      reason = 'ScaleUpLimit';
      message = 'the desired replica count is increasing faster than the maximum scale rate';
    }
    let replicas = stabilized;
    if (stabilized < i.minReplicas) {
      replicas = i.minReplicas;
      reason = 'TooFewReplicas';
      message = 'the desired replica count is less than the minimum replica count';
    } else if (stabilized > max) replicas = max;
    else {
      reason = 'DesiredWithinRange';
      message = 'the desired count is within the acceptable range';
    }
    conditions.push(['ScalingLimited', replicas === stabilized ? 'False' : 'True', reason, message]);
    return { replicas, conditions };
  }

  private withBehavior(
    i: NormalizationInput,
    behavior: HorizontalPodAutoscalerBehavior,
    nowMs: number,
  ): NormalizationResult {
    const { scaleUp, scaleDown } = completeBehavior(behavior, this.downscaleStabilizationMs);
    const upCutoff = nowMs - scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoff = nowMs - scaleDown.stabilizationWindowSeconds * 1000;
    let upRec = i.desiredReplicas;
    let downRec = i.desiredReplicas;
    for (const r of this.recommendations.get(i.key) ?? []) {
      if (r.timestampMs > upCutoff) upRec = Math.min(upRec, r.recommendation);
      if (r.timestampMs > downCutoff) downRec = Math.max(downRec, r.recommendation);
    }
    let stabilized = i.currentReplicas;
    if (stabilized < upRec) stabilized = upRec;
    if (stabilized > downRec) stabilized = downRec;
    this.record(i.key, i.desiredReplicas, (t) => t < upCutoff && t < downCutoff, nowMs);
    const conditions: ConditionUpdate[] = [];
    if (stabilized !== i.desiredReplicas) {
      conditions.push(
        i.desiredReplicas >= i.currentReplicas
          ? [
              'AbleToScale',
              'True',
              'ScaleUpStabilized',
              'recent recommendations were lower than current one, applying the lowest recent recommendation',
            ]
          : [
              'AbleToScale',
              'True',
              'ScaleDownStabilized',
              'recent recommendations were higher than current one, applying the highest recent recommendation',
            ],
      );
    } else
      conditions.push(['AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size']);
    const [replicas, reason, message] = this.limitByRate(i, stabilized, scaleUp, scaleDown, nowMs);
    conditions.push(['ScalingLimited', replicas === stabilized ? 'False' : 'True', reason, message]);
    return { replicas, conditions };
  }

  // Upstream's convertDesiredReplicasWithBehaviorRate.
  private limitByRate(
    i: NormalizationInput,
    desired: number,
    up: ScalingRules,
    down: ScalingRules,
    nowMs: number,
  ): [number, string, string] {
    const ups = this.upEvents.get(i.key) ?? [];
    const downs = this.downEvents.get(i.key) ?? [];
    if (desired > i.currentReplicas) {
      const limit = Math.max(scaleUpLimit(i.currentReplicas, ups, downs, up, nowMs), i.currentReplicas);
      if (i.maxReplicas > limit) {
        if (desired > limit)
          return [
            limit,
            'ScaleUpLimit',
            'the desired replica count is increasing faster than the maximum scale rate',
          ];
      } else if (desired > i.maxReplicas)
        return [
          i.maxReplicas,
          'TooManyReplicas',
          'the desired replica count is more than the maximum replica count',
        ];
    } else if (desired < i.currentReplicas) {
      const limit = Math.min(scaleDownLimit(i.currentReplicas, ups, downs, down, nowMs), i.currentReplicas);
      if (i.minReplicas < limit) {
        if (desired < limit)
          return [
            limit,
            'ScaleDownLimit',
            'the desired replica count is decreasing faster than the maximum scale rate',
          ];
      } else if (desired < i.minReplicas)
        return [
          i.minReplicas,
          'TooFewReplicas',
          'the desired replica count is less than the minimum replica count',
        ];
    }
    return [desired, 'DesiredWithinRange', 'the desired count is within the acceptable range'];
  }

  /** Remembers a rescale for the behavior's rate policies (upstream storeScaleEvent). */
  storeScaleEvent(
    key: string,
    behavior: HorizontalPodAutoscalerBehavior | undefined,
    prevReplicas: number,
    newReplicas: number,
    nowMs: number,
  ): void {
    if (behavior === undefined) return;
    const { scaleUp, scaleDown } = completeBehavior(behavior, this.downscaleStabilizationMs);
    const upward = newReplicas > prevReplicas;
    const rules = upward ? scaleUp : scaleDown;
    const map = upward ? this.upEvents : this.downEvents;
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
    const events = map.get(key) ?? [];
    const cutoff = nowMs - longest * 1000;
    let old = -1;
    events.forEach((e, idx) => {
      if (e.timestampMs < cutoff) e.outdated = true;
      if (e.outdated) old = idx;
    });
    const ev: ScaleEvent = {
      replicaChange: Math.abs(newReplicas - prevReplicas),
      timestampMs: nowMs,
      outdated: false,
    };
    if (old >= 0) events[old] = ev;
    else events.push(ev);
    map.set(key, events);
  }
}
