// Where the HPA controller gets its samples (upstream's metrics client). Resource and
// container-resource metrics come from the resource metrics API (metrics.k8s.io PodMetrics,
// listed by the target's selector): a pod's value is the sum of its containers' (the pod is
// left out when any container lacks the resource), or the named container's. kts serves no
// custom or external metrics API, so Pods, Object and External metrics fail with the errors
// upstream's clients give when those APIs are not registered.

import type { MetricIdentifier } from '../../api/generated/types/autoscaling-v2.js';
import { type Client, gvr } from '../../client/interface.js';
import { errorText } from '../../client/log.js';
import { parseQuantity } from '../../machinery/quantity.js';
import { parseDuration } from '../../machinery/duration.js';
import type { PodMetric, PodMetricsInfo } from './replica-calculator.js';

/** metrics.k8s.io/v1beta1 PodMetrics as the controller reads them. */
export interface PodMetricsItem {
  metadata?: { name?: string; namespace?: string };
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

/** metrics.k8s.io/v1beta1 pods. */
export const POD_METRICS = gvr<PodMetricsItem>('metrics.k8s.io', 'v1beta1', 'pods');

/** Samples of one resource and the time of the first one. */
export interface ResourceMetricResult {
  metrics: PodMetricsInfo;
  timestampMs: number;
}

/** The samples the controller can ask for. */
export interface HPAMetricsClient {
  /** Per-pod usage of `resource` (milli-units) for pods matching `selector`; `container` narrows to one. */
  getResourceMetric(
    resource: string,
    namespace: string,
    selector: string,
    container: string,
  ): Promise<ResourceMetricResult>;
}

function sample(m: PodMetricsItem, value: number): PodMetric {
  const ts = m.timestamp !== undefined ? Date.parse(m.timestamp) : Number.NaN;
  let windowMs = 0;
  try {
    windowMs = m.window !== undefined ? parseDuration(m.window) : 0;
  } catch {
    // an unparsable window counts as none
  }
  return { timestampMs: Number.isNaN(ts) ? 0 : ts, windowMs, value };
}

function milli(v: string): number {
  return parseQuantity(v).milliValue();
}

/** Upstream's getPodMetrics / getContainerMetrics over a PodMetrics list. */
export function podMetricsInfo(
  items: readonly PodMetricsItem[],
  resource: string,
  container: string,
): PodMetricsInfo {
  const out: PodMetricsInfo = new Map();
  for (const m of items) {
    const name = m.metadata?.name ?? '';
    const containers = m.containers ?? [];
    if (container !== '') {
      const c = containers.find((x) => x.name === container);
      if (c === undefined)
        throw new Error(
          `failed to get container metrics: container ${container} not present in metrics for pod ${m.metadata?.namespace ?? ''}/${name}`,
        );
      const v = c.usage?.[resource];
      if (v !== undefined) out.set(name, sample(m, milli(v)));
      continue;
    }
    if (containers.length === 0) continue;
    let sum = 0;
    let missing = false;
    for (const c of containers) {
      const v = c.usage?.[resource];
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += milli(v);
    }
    if (!missing) out.set(name, sample(m, sum));
  }
  return out;
}

/** The resource metrics client over the API. */
export class RestHPAMetricsClient implements HPAMetricsClient {
  /** Reads PodMetrics through `client`. */
  constructor(private readonly client: Client) {}

  async getResourceMetric(
    resource: string,
    namespace: string,
    selector: string,
    container: string,
  ): Promise<ResourceMetricResult> {
    let items: PodMetricsItem[];
    try {
      items = (await this.client.resource(POD_METRICS).list(namespace, { labelSelector: selector })).items;
    } catch (err) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${errorText(err)}`);
    }
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
    const metrics = podMetricsInfo(items, resource, container);
    const first = items[0]?.timestamp;
    return { metrics, timestampMs: first !== undefined ? Date.parse(first) || 0 : 0 };
  }
}

/** The error of every custom metrics request: kts serves no custom.metrics.k8s.io. */
export const NO_CUSTOM_METRICS_API =
  'unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered';

/** The error of every external metrics request: kts serves no external.metrics.k8s.io. */
export const NO_EXTERNAL_METRICS_API =
  'unable to fetch metrics from external metrics API: the server could not find the requested resource';

/** Go's `%+v` of a *metav1.LabelSelector (its generated String()). */
export function selectorPlusV(sel: MetricIdentifier['selector']): string {
  if (sel === undefined || sel === null) return '<nil>';
  const labels = Object.keys(sel.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${sel.matchLabels?.[k] ?? ''},`)
    .join('');
  const exprs = (sel.matchExpressions ?? [])
    .map(
      (r) =>
        `LabelSelectorRequirement{Key:${r.key},Operator:${r.operator},Values:[${(r.values ?? []).join(' ')}],},`,
    )
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}
