// HorizontalPodAutoscalers and PodDisruptionBudgets: how many pods a workload may have,
// and how many it may lose.
import type {
  HorizontalPodAutoscaler,
  MetricSpec,
  MetricStatus,
} from '../../api/generated/types/autoscaling-v2.js';
import type { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from '../../api/generated/types/autoscaling-v1.js';
import type { PodDisruptionBudget } from '../../api/generated/types/policy-v1.js';
import { AGE_COLUMN, NAME_COLUMN, age, column, int, nameOf, quantityCell } from './format.js';
import type { ResourcePrinter } from './table.js';

// Go's (*Quantity).String() prints `<nil>` for a nil pointer; upstream reaches it for
// targets and currents that are not set.
function q(v: unknown): string {
  return v === undefined || v === null ? '<nil>' : quantityCell(v);
}

function metricCell(spec: MetricSpec, status: MetricStatus | undefined): string {
  switch (spec.type) {
    case 'External': {
      const target = spec.external?.target;
      if (target?.averageValue !== undefined) {
        const cur = status?.external?.current?.averageValue;
        return `${cur !== undefined ? q(cur) : '<unknown>'}/${q(target.averageValue)} (avg)`;
      }
      const cur = status?.external ? q(status.external.current?.value) : '<unknown>';
      return `${cur}/${q(target?.value)}`;
    }
    case 'Pods': {
      const cur = status?.pods ? q(status.pods.current?.averageValue) : '<unknown>';
      return `${cur}/${q(spec.pods?.target?.averageValue)}`;
    }
    case 'Object': {
      const target = spec.object?.target;
      if (target?.averageValue !== undefined) {
        const cur = status?.object?.current?.averageValue;
        return `${cur !== undefined ? q(cur) : '<unknown>'}/${q(target.averageValue)} (avg)`;
      }
      const cur = status?.object ? q(status.object.current?.value) : '<unknown>';
      return `${cur}/${q(target?.value)}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const current = spec.type === 'Resource' ? status?.resource : status?.containerResource;
      const name = source?.name ?? '';
      const target = source?.target;
      if (target?.averageValue !== undefined) {
        const cur = current ? q(current.current?.averageValue) : '<unknown>';
        return `${name}: ${cur}/${q(target.averageValue)}`;
      }
      const util = current?.current?.averageUtilization;
      const cur = typeof util === 'number' ? `${util}%` : '<unknown>';
      const want =
        typeof target?.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
      return `${name}: ${cur}/${want}`;
    }
    default:
      return '<unknown type>';
  }
}

// autoscaling/v1 objects carry one CPU target; upstream converts it to a Resource metric.
function v1Metrics(hpa: HorizontalPodAutoscalerV1): [MetricSpec[], MetricStatus[]] {
  const target = hpa.spec?.targetCPUUtilizationPercentage;
  if (typeof target !== 'number') return [[], []];
  const specs: MetricSpec[] = [
    {
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
    },
  ];
  const current = hpa.status?.currentCPUUtilizationPercentage;
  const statuses: MetricStatus[] =
    typeof current === 'number'
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }]
      : [];
  return [specs, statuses];
}

/** The TARGETS cell: `cpu: 30%/80%, memory: <unknown>/1Gi + 1 more...`, or `<none>`. */
export function hpaTargetsCell(specs: MetricSpec[], statuses: MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const max = 2;
  const list: string[] = [];
  for (let i = 0; i < specs.length && i < max; i++)
    list.push(metricCell(specs[i] as MetricSpec, statuses[i]));
  const joined = list.join(', ');
  return specs.length > max ? `${joined} + ${specs.length - max} more...` : joined;
}

/** HorizontalPodAutoscalers (autoscaling/v2 objects, or v1 ones with a CPU target). */
export const HORIZONTAL_POD_AUTOSCALERS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Reference', 'string', 'The scaled workload.'),
    column('Targets', 'string', 'Current and target metric values.'),
    column('MinPods', 'string', 'The lowest replica count.'),
    column('MaxPods', 'string', 'The highest replica count.'),
    column('Replicas', 'string', 'The current replica count.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const hpa = obj as unknown as HorizontalPodAutoscaler;
    const spec = hpa.spec;
    let specs = spec?.metrics;
    let statuses = hpa.status?.currentMetrics ?? [];
    if (specs === undefined) [specs, statuses] = v1Metrics(obj as unknown as HorizontalPodAutoscalerV1);
    const ref = spec?.scaleTargetRef;
    const min = spec?.minReplicas;
    return [
      nameOf(obj),
      `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
      hpaTargetsCell(specs, statuses ?? []),
      typeof min === 'number' ? String(min) : '<unset>',
      int(spec?.maxReplicas),
      int(hpa.status?.currentReplicas),
      age(obj, ctx.nowMs),
    ];
  },
};

/** PodDisruptionBudgets. */
export const POD_DISRUPTION_BUDGETS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Min Available', 'string', 'Pods that must stay available.'),
    column('Max Unavailable', 'string', 'Pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Pods that may be disrupted now.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const pdb = obj as unknown as PodDisruptionBudget;
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return [
      nameOf(obj),
      min === undefined || min === null ? 'N/A' : String(min),
      max === undefined || max === null ? 'N/A' : String(max),
      int(pdb.status?.disruptionsAllowed),
      age(obj, ctx.nowMs),
    ];
  },
};
