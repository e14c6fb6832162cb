// The horizontal pod autoscaler controller (upstream pkg/controller/podautoscaler,
// autoscaling/v2 semantics). Every HPA is reconciled once per sync period (15 s): its queue
// hands a key back only after the period (upstream's fixed-interval rate limiter), and each
// reconcile re-adds it. A reconcile reads the target's `/scale`, asks each metric for a
// replica count (the highest wins), normalizes it (stabilization, behavior policies, min and
// max), writes the new scale when it changed (event SuccessfulRescale), and writes the status
// — current/desired replicas, current metrics, lastScaleTime and the AbleToScale,
// ScalingActive and ScalingLimited conditions — only when it changed.

import { isDeepStrictEqual } from 'node:util';
import type { Scale } from '../../api/generated/types/autoscaling-v1.js';
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerCondition,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
  MetricTarget,
  MetricValueStatus,
} from '../../api/generated/types/autoscaling-v2.js';
import type { Pod } from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  splitKey,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import { type Client, type GroupVersionResource, gvr } from '../../client/interface.js';
import { errorText, type Logger } from '../../client/log.js';
import { PODS } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { parseSelector } from '../../machinery/labels/selector.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import { Quantity, parseQuantity } from '../../machinery/quantity.js';
import { runWorkers } from '../common/workers.js';
import type { Controller, ControllerContext } from '../types.js';
import { type ConditionUpdate, ScalingHistory } from './behavior.js';
import {
  type HPAMetricsClient,
  NO_CUSTOM_METRICS_API,
  NO_EXTERNAL_METRICS_API,
  RestHPAMetricsClient,
  selectorPlusV,
} from './metrics-client.js';
import {
  plainMetricReplicas,
  type ReplicaCalculatorOptions,
  resourceReplicas,
} from './replica-calculator.js';
import { RestScaleClient, type ScaleClient } from './scale-target.js';

/** autoscaling/v2 horizontalpodautoscalers. */
export const HORIZONTALPODAUTOSCALERS = gvr<HorizontalPodAutoscaler>(
  'autoscaling',
  'v2',
  'horizontalpodautoscalers',
);

/** The event source of the controller's events. */
export const HPA_EVENT_SOURCE = 'horizontal-pod-autoscaler';

/** Collaborators a test may replace. */
export interface HorizontalControllerDeps {
  metrics?: HPAMetricsClient;
  scales?: ScaleClient;
}

// One metric's proposal, or why it has none (the condition upstream would set).
type Proposal =
  | { ok: true; replicas: number; metric: string; status: MetricStatus }
  | { ok: false; error: string; condition: ConditionUpdate };

/** The HPA controller. */
export class HorizontalController implements Controller {
  readonly name = 'horizontalpodautoscaling';
  /** HPA keys; each comes back one sync period after it was last handled. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly hpas: Lister<HorizontalPodAutoscaler>;
  private readonly pods: Lister<Pod>;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;
  private readonly metrics: HPAMetricsClient;
  private readonly scales: ScaleClient;
  private readonly history: ScalingHistory;
  private readonly calc: ReplicaCalculatorOptions;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext, deps: HorizontalControllerDeps = {}) {
    const o = ctx.options;
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.recorder = ctx.recorder(HPA_EVENT_SOURCE);
    this.workers = o.workers;
    const period = o.horizontalPodAutoscalerSyncPeriodMs;
    this.queue = new RateLimitingQueue<string>({
      clock: ctx.clock,
      name: 'horizontalpodautoscaler',
      rateLimiter: { when: () => period, forget: () => {}, numRequeues: () => 0 },
    });
    this.metrics = deps.metrics ?? new RestHPAMetricsClient(ctx.client);
    this.scales = deps.scales ?? new RestScaleClient(ctx.client);
    this.history = new ScalingHistory(o.horizontalPodAutoscalerDownscaleStabilizationMs);
    this.calc = {
      tolerance: o.horizontalPodAutoscalerTolerance,
      cpuInitializationPeriodMs: o.horizontalPodAutoscalerCpuInitializationPeriodMs,
      delayOfInitialReadinessStatusMs: o.horizontalPodAutoscalerInitialReadinessDelayMs,
    };
    const hpa = ctx.informers.forResource(HORIZONTALPODAUTOSCALERS);
    const pod = ctx.informers.forResource(PODS);
    this.hpas = hpa.lister;
    this.pods = pod.lister;
    this.synced = [hpa.informer, pod.informer];
    // Every add and update waits a sync period, as upstream's enqueueHPA does: a key already
    // waiting keeps its earlier time, so edits never make an HPA sync more often.
    const enqueue = (h: HorizontalPodAutoscaler | DeletedFinalStateUnknown<HorizontalPodAutoscaler>): void =>
      this.queue.addRateLimited(metaNamespaceKeyFunc(unwrapTombstone(h)));
    hpa.informer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_o, n) => enqueue(n),
      onDelete: (h) => this.queue.forget(metaNamespaceKeyFunc(unwrapTombstone(h))),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runWorkers({
      queue: this.queue,
      sync: (k) => this.sync(k),
      workers: this.workers,
      signal,
      log: this.log,
      name: this.name,
    });
  }

  /** Reconciles one HPA and schedules its next reconcile (never throws for HPA errors). */
  async sync(key: string): Promise<void> {
    const hpa = this.hpas.getByKey(key);
    if (hpa === undefined) {
      this.history.forget(key);
      return;
    }
    try {
      await this.reconcile(structuredClone(hpa), key);
    } catch (err) {
      this.log.info('hpa reconcile failed', { hpa: key, error: errorText(err) });
    }
    this.queue.addRateLimited(key);
  }

  private event(hpa: HorizontalPodAutoscaler, type: 'Normal' | 'Warning', reason: string, msg: string): void {
    this.recorder.event(hpa, type, reason, msg);
  }

  private setCondition(hpa: HorizontalPodAutoscaler, [type, status, reason, message]: ConditionUpdate): void {
    hpa.status ??= { desiredReplicas: 0 };
    hpa.status.conditions ??= [];
    const list = hpa.status.conditions;
    let c = list.find((x) => x.type === type);
    if (c === undefined) {
      c = { type, status: '' };
      list.push(c);
    }
    if (c.status !== status) c.lastTransitionTime = formatTimestamp(new Date(this.clock.now()));
    c.status = status;
    c.reason = reason;
    c.message = message;
  }

  /** Upstream's reconcileAutoscaler on a private copy of the HPA. */
  private async reconcile(hpa: HorizontalPodAutoscaler, key: string): Promise<void> {
    const original = structuredClone(hpa.status ?? { desiredReplicas: 0 });
    const { namespace } = splitKey(key);
    const ref = hpa.spec.scaleTargetRef;
    const reference = `${ref.kind}/${namespace}/${ref.name}`;
    let target: { resource: GroupVersionResource; scale: Scale };
    try {
      target = await this.scales.get(namespace, ref);
    } catch (err) {
      const text = errorText(err);
      this.event(hpa, 'Warning', 'FailedGetScale', text);
      this.setCondition(hpa, [
        'AbleToScale',
        'False',
        'FailedGetScale',
        `the HPA controller was unable to get the target's current scale: ${text}`,
      ]);
      await this.updateStatusIfNeeded(original, hpa);
      throw new Error(`failed to query scale subresource for ${reference}: ${text}`);
    }
    const scale = target.scale;
    this.setCondition(hpa, [
      'AbleToScale',
      'True',
      'SucceededGetScale',
      "the HPA controller was able to get the target's current scale",
    ]);
    const now = this.clock.now();
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.history.recordInitial(key, currentReplicas, now);
    const minReplicas = hpa.spec.minReplicas ?? 1;
    const maxReplicas = hpa.spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let statuses: MetricStatus[] | undefined;
    let deferred: Error | undefined;
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      this.setCondition(hpa, [
        'ScalingActive',
        'False',
        'ScalingDisabled',
        'scaling is disabled since the replica count of the target is zero',
      ]);
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, metricSpecs(hpa));
      statuses = computed.statuses;
      if (computed.error !== undefined && computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, statuses, false);
        await this.updateStatusIfNeeded(original, hpa);
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error);
        throw new Error(
          `failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error}`,
        );
      }
      if (computed.error !== undefined) deferred = new Error(computed.error);
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metric;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const n = this.history.normalize(
        {
          key,
          currentReplicas,
          desiredReplicas,
          minReplicas,
          maxReplicas,
          ...(hpa.spec.behavior !== undefined ? { behavior: hpa.spec.behavior } : {}),
        },
        now,
      );
      for (const c of n.conditions) this.setCondition(hpa, c);
      desiredReplicas = n.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }
    if (rescale) {
      try {
        await this.scales.update(namespace, target.resource, {
          ...scale,
          spec: { ...scale.spec, replicas: desiredReplicas },
        });
      } catch (err) {
        const text = errorText(err);
        this.event(
          hpa,
          'Warning',
          'FailedRescale',
          `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${text}`,
        );
        this.setCondition(hpa, [
          'AbleToScale',
          'False',
          'FailedUpdateScale',
          `the HPA controller was unable to update the target scale: ${text}`,
        ]);
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, statuses, false);
        await this.updateStatusIfNeeded(original, hpa);
        throw new Error(`failed to rescale ${reference}: ${text}`);
      }
      this.setCondition(hpa, [
        'AbleToScale',
        'True',
        'SucceededRescale',
        `the HPA controller was able to update the target scale to ${desiredReplicas}`,
      ]);
      this.event(
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desiredReplicas}; reason: ${rescaleReason}`,
      );
      this.history.storeScaleEvent(key, hpa.spec.behavior, currentReplicas, desiredReplicas, now);
      this.log.info('rescaled', { hpa: key, currentReplicas, desiredReplicas, reason: rescaleReason });
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, statuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
    if (deferred !== undefined) throw deferred;
  }

  private setStatus(
    hpa: HorizontalPodAutoscaler,
    currentReplicas: number,
    desiredReplicas: number,
    statuses: MetricStatus[] | undefined,
    rescale: boolean,
  ): void {
    const prev = hpa.status;
    const st: HorizontalPodAutoscalerStatus = { currentReplicas, desiredReplicas };
    if (hpa.metadata?.generation !== undefined) st.observedGeneration = hpa.metadata.generation;
    const last = rescale ? formatTimestamp(new Date(this.clock.now())) : prev?.lastScaleTime;
    if (last !== undefined) st.lastScaleTime = last;
    if (statuses !== undefined && statuses.length > 0) st.currentMetrics = statuses;
    if (prev?.conditions !== undefined) st.conditions = prev.conditions;
    hpa.status = st;
  }

  private async updateStatusIfNeeded(
    original: HorizontalPodAutoscalerStatus,
    hpa: HorizontalPodAutoscaler,
  ): Promise<void> {
    if (isDeepStrictEqual(original, hpa.status)) return;
    try {
      await this.client.resource(HORIZONTALPODAUTOSCALERS).updateStatus(hpa.metadata?.namespace ?? '', hpa);
    } catch (err) {
      this.event(hpa, 'Warning', 'FailedUpdateStatus', errorText(err));
      throw new Error(`failed to update status for ${hpa.metadata?.name ?? ''}: ${errorText(err)}`);
    }
  }

  /** Upstream's computeReplicasForMetrics: the highest proposal, or -1 when none may act. */
  private async computeReplicasForMetrics(
    hpa: HorizontalPodAutoscaler,
    scale: Scale,
    specs: MetricSpec[],
  ): Promise<{ replicas: number; metric: string; statuses?: MetricStatus[]; error?: string }> {
    const selectorText = scale.status?.selector ?? '';
    if (selectorText === '') {
      this.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      this.setCondition(hpa, [
        'ScalingActive',
        'False',
        'InvalidSelector',
        "the HPA target's scale is missing a selector",
      ]);
      return { replicas: -1, metric: '', error: 'selector is required' };
    }
    try {
      parseSelector(selectorText);
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${errorText(err)}`;
      this.event(hpa, 'Warning', 'InvalidSelector', msg);
      this.setCondition(hpa, ['ScalingActive', 'False', 'InvalidSelector', msg]);
      return { replicas: -1, metric: '', error: msg };
    }
    const specReplicas = scale.spec?.replicas ?? 0;
    const statuses: MetricStatus[] = [];
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let firstError: string | undefined;
    let firstCondition: ConditionUpdate | undefined;
    for (const spec of specs) {
      const p = await this.computeReplicasForMetric(hpa, spec, specReplicas, selectorText);
      if (!p.ok) {
        // Upstream keeps an empty status in the slot of a failed metric.
        statuses.push({ type: '' });
        if (invalid === 0) {
          firstError = p.error;
          firstCondition = p.condition;
        }
        invalid++;
        continue;
      }
      statuses.push(p.status);
      if (replicas === 0 || p.replicas > replicas) {
        replicas = p.replicas;
        metric = p.metric;
      }
    }
    const error =
      firstError !== undefined
        ? `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError}`
        : undefined;
    if (invalid >= specs.length || (invalid > 0 && replicas < specReplicas)) {
      if (firstCondition !== undefined) this.setCondition(hpa, firstCondition);
      return { replicas: -1, metric: '', statuses, ...(error !== undefined ? { error } : {}) };
    }
    this.setCondition(hpa, [
      'ScalingActive',
      'True',
      'ValidMetricFound',
      `the HPA was able to successfully calculate a replica count from ${metric}`,
    ]);
    return { replicas, metric, statuses, ...(error !== undefined ? { error } : {}) };
  }

  // A failed metric: the warning event and the ScalingActive condition it proposes.
  private failed(hpa: HorizontalPodAutoscaler, reason: string, inner: string, outer: string): Proposal {
    this.event(hpa, 'Warning', reason, inner);
    return {
      ok: false,
      error: outer,
      condition: [
        'ScalingActive',
        'False',
        reason,
        `the HPA was unable to compute the replica count: ${inner}`,
      ],
    };
  }

  private async computeReplicasForMetric(
    hpa: HorizontalPodAutoscaler,
    spec: MetricSpec,
    specReplicas: number,
    selector: string,
  ): Promise<Proposal> {
    const ns = hpa.metadata?.namespace ?? '';
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const isContainer = spec.type === 'ContainerResource';
        const src = isContainer ? spec.containerResource : spec.resource;
        const name = src?.name ?? '';
        const container = isContainer ? (spec.containerResource?.container ?? '') : '';
        const reason = isContainer ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
        const r = await this.resourceProposal(
          specReplicas,
          src?.target,
          name,
          ns,
          container,
          selector,
          isContainer,
        );
        if ('error' in r) {
          const outer = isContainer
            ? `failed to get ${container} container metric value: ${r.error}`
            : `failed to get ${name} resource metric value: ${r.error}`;
          return this.failed(hpa, reason, r.error, outer);
        }
        const status: MetricStatus = isContainer
          ? { type: 'ContainerResource', containerResource: { name, container, current: r.current } }
          : { type: 'Resource', resource: { name, current: r.current } };
        return { ok: true, replicas: r.replicas, metric: r.metric, status };
      }
      case 'Pods': {
        const inner = `unable to get metric ${spec.pods?.metric.name ?? ''}: ${NO_CUSTOM_METRICS_API}`;
        return this.failed(hpa, 'FailedGetPodsMetric', inner, `failed to get pods metric value: ${inner}`);
      }
      case 'Object': {
        const o = spec.object;
        const inner = `unable to get metric ${o?.metric.name ?? ''}: ${o?.describedObject.kind ?? ''} on ${ns} ${o?.describedObject.name ?? ''}/${NO_CUSTOM_METRICS_API}`;
        const target = o?.target;
        if (target?.type === 'Value' && target.value !== undefined)
          return this.failed(
            hpa,
            'FailedGetObjectMetric',
            inner,
            `failed to get object metric value: ${inner}`,
          );
        if (target?.type === 'AverageValue' && target.averageValue !== undefined)
          return this.failed(
            hpa,
            'FailedGetObjectMetric',
            inner,
            `failed to get object metric value: failed to get ${o?.metric.name ?? ''} object metric: ${inner}`,
          );
        const msg =
          'invalid object metric source: neither a value target nor an average value target was set';
        return this.failed(hpa, 'FailedGetObjectMetric', msg, `failed to get object metric value: ${msg}`);
      }
      case 'External': {
        const e = spec.external;
        const mname = e?.metric.name ?? '';
        const inner = `unable to get external metric ${ns}/${mname}/${selectorPlusV(e?.metric.selector)}: ${NO_EXTERNAL_METRICS_API}`;
        if (e?.target.averageValue !== undefined)
          return this.failed(
            hpa,
            'FailedGetExternalMetric',
            inner,
            `failed to get ${mname} external metric value: failed to get ${mname} external metric: ${inner}`,
          );
        if (e?.target.value !== undefined)
          return this.failed(
            hpa,
            'FailedGetExternalMetric',
            inner,
            `failed to get ${mname} external metric value: failed to get external metric ${mname}: ${inner}`,
          );
        const msg =
          'invalid external metric source: neither a value target nor an average value target was set';
        return this.failed(
          hpa,
          'FailedGetExternalMetric',
          msg,
          `failed to get ${mname} external metric value: ${msg}`,
        );
      }
      default: {
        const msg = `unknown metric source type ${JSON.stringify(spec.type)}`;
        return this.failed(hpa, 'InvalidMetricSourceType', msg, msg);
      }
    }
  }

  // Upstream's computeStatusForResourceMetricGeneric.
  private async resourceProposal(
    currentReplicas: number,
    target: MetricTarget | undefined,
    resource: string,
    namespace: string,
    container: string,
    selector: string,
    isContainer: boolean,
  ): Promise<{ replicas: number; current: MetricValueStatus; metric: string } | { error: string }> {
    const pods = (): Pod[] => this.pods.namespace(namespace).list(parseSelector(selector));
    const nowMs = this.clock.now();
    if (target?.averageValue !== undefined) {
      try {
        const m = await this.fetch(resource, namespace, selector, container);
        const [replicas, usage] = plainMetricReplicas({
          currentReplicas,
          targetUsage: parseQuantity(String(target.averageValue)).milliValue(),
          resource,
          pods: pods(),
          metrics: m,
          options: this.calc,
          nowMs,
        });
        return {
          replicas,
          current: { averageValue: Quantity.milli(usage).toString() },
          metric: `${resource} resource`,
        };
      } catch (err) {
        return { error: `failed to get ${resource} usage: ${errorText(err)}` };
      }
    }
    if (target?.averageUtilization === undefined)
      return {
        error:
          'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set',
      };
    try {
      const m = await this.fetch(resource, namespace, selector, container);
      const r = resourceReplicas({
        currentReplicas,
        targetUtilization: target.averageUtilization,
        resource,
        container,
        pods: pods(),
        metrics: m,
        options: this.calc,
        nowMs,
      });
      return {
        replicas: r.replicas,
        current: {
          averageUtilization: r.utilization,
          averageValue: Quantity.milli(r.rawUtilization).toString(),
        },
        metric: isContainer
          ? `${resource} container resource utilization (percentage of request)`
          : `${resource} resource utilization (percentage of request)`,
      };
    } catch (err) {
      return { error: `failed to get ${resource} utilization: ${errorText(err)}` };
    }
  }

  private async fetch(resource: string, namespace: string, selector: string, container: string) {
    try {
      return (await this.metrics.getResourceMetric(resource, namespace, selector, container)).metrics;
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: ${errorText(err)}`);
    }
  }
}

/** The HPA's metrics, or upstream's default (80% CPU utilization) when it lists none. */
export function metricSpecs(hpa: HorizontalPodAutoscaler): MetricSpec[] {
  const specs = hpa.spec.metrics ?? [];
  if (specs.length > 0) return specs;
  return [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
  ];
}

/** Conditions compared without their transition times (tests). */
export function conditionSummary(conds: readonly HorizontalPodAutoscalerCondition[] | undefined): string[] {
  return (conds ?? []).map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`);
}
