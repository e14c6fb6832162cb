// The resource metrics API, metrics.k8s.io/v1beta1, as metrics-server serves it: `nodes`
// (NodeMetrics, cluster-scoped) and `pods` (PodMetrics, namespaced), get and list only (no
// watch), label selectors and the `metadata.name`/`metadata.namespace` field selectors
// applied to the Nodes and Pods themselves, and Tables for `kubectl get`. Items exist only
// for objects with usage in MetricsStorage (two scrapes seen); a GET of one without usage is
// a NotFound of the metrics resource, of one that does not exist a NotFound of the object.

import type { Node, Pod } from '../api/generated/types/core-v1.js';
import type { ResourceInfo } from '../api/registry-types.js';
import type { ResourceRequest } from '../apiserver/dispatch.js';
import { writeObject } from '../apiserver/http.js';
import { negotiate } from '../apiserver/negotiation.js';
import type { TableColumnDefinition } from '../apiserver/printers/index.js';
import { parseListQuery } from '../apiserver/registry/list-options.js';
import type { Store } from '../apiserver/registry/store.js';
import type { ExtensionAPI } from '../apiserver/served.js';
import { notFound } from '../machinery/status-error.js';
import { type Quantity, parseQuantity } from '../machinery/quantity.js';
import { type MetricsStorage, usageList, windowString } from './metrics-storage.js';

/** The API group. */
export const METRICS_GROUP = 'metrics.k8s.io';
/** Its one version. */
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

function resource(kind: string, plural: string, singular: string, namespaced: boolean): ResourceInfo {
  return {
    group: METRICS_GROUP,
    version: METRICS_VERSION,
    kind,
    listKind: `${kind}List`,
    plural,
    singular,
    shortNames: [],
    categories: [],
    namespaced,
    verbs: ['get', 'list'],
    subresources: [],
    definition: `io.k8s.metrics.pkg.apis.metrics.v1beta1.${kind}`,
  };
}

/** metrics.k8s.io/v1beta1 nodes. */
export const NODE_METRICS = resource('NodeMetrics', 'nodes', 'node', false);
/** metrics.k8s.io/v1beta1 pods. */
export const POD_METRICS = resource('PodMetrics', 'pods', 'pod', true);

/** NodeMetrics as served. */
export interface NodeMetrics {
  kind?: 'NodeMetrics';
  apiVersion?: string;
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: Record<string, string>;
}

/** PodMetrics as served. */
export interface PodMetrics {
  kind?: 'PodMetrics';
  apiVersion?: string;
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: { name: string; usage: Record<string, string> }[];
}

// metav1.Time: RFC 3339 with whole seconds.
function rfc3339(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Where the metrics API reads objects and usage. */
export interface MetricsSource {
  nodes: Pick<Store, 'listAll' | 'get'>;
  pods: Pick<Store, 'listAll' | 'get'>;
  storage: MetricsStorage;
}

/** The NodeMetrics of a Node, when its usage is known. */
export function nodeMetricsOf(node: Node, storage: MetricsStorage, nowMs: number): NodeMetrics | undefined {
  const name = node.metadata?.name ?? '';
  const u = storage.nodeUsage(name);
  if (u === undefined) return undefined;
  const labels = node.metadata?.labels;
  return {
    metadata: { name, creationTimestamp: rfc3339(nowMs), ...(labels !== undefined ? { labels } : {}) },
    timestamp: rfc3339(u.timestampMs),
    window: windowString(u.windowMs),
    usage: usageList(u),
  };
}

/** The PodMetrics of a Pod, when its usage is known. */
export function podMetricsOf(pod: Pod, storage: MetricsStorage, nowMs: number): PodMetrics | undefined {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const u = storage.podUsage(namespace, name);
  if (u === undefined) return undefined;
  const labels = pod.metadata?.labels;
  return {
    metadata: {
      name,
      namespace,
      creationTimestamp: rfc3339(nowMs),
      ...(labels !== undefined ? { labels } : {}),
    },
    timestamp: rfc3339(u.timestampMs),
    window: windowString(u.windowMs),
    containers: u.containers.map((c) => ({ name: c.name, usage: usageList(c.usage) })),
  };
}

const NAME_COLUMN: TableColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name of the resource',
  priority: 0,
};

function quantityColumn(name: string): TableColumnDefinition {
  return { name, type: 'string', format: 'quantity', description: '', priority: 0 };
}

/**
 * metrics-server's Table: Name, one column per resource in the usage (sorted), Window; a
 * pod's usage is the sum of its containers'. An empty list has no column definitions.
 */
export function metricsTable(
  items: readonly (NodeMetrics | PodMetrics)[],
  includeObject: string,
  version: 'v1' | 'v1beta1',
): unknown {
  const apiVersion = `meta.k8s.io/${version}`;
  let columns: TableColumnDefinition[] | null = null;
  const rows = items.map((m) => {
    const usage = 'usage' in m ? m.usage : sumUsage(m.containers);
    const names = Object.keys(usage).sort();
    if (columns === null) {
      columns = [
        NAME_COLUMN,
        ...names.map(quantityColumn),
        { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
      ];
    }
    const row: { cells: unknown[]; object?: unknown } = {
      cells: [m.metadata.name, ...names.map((n) => usage[n] ?? ''), m.window],
    };
    if (includeObject === 'Object') row.object = m;
    else if (includeObject !== 'None')
      row.object = { kind: 'PartialObjectMetadata', apiVersion, metadata: m.metadata };
    return row;
  });
  return { kind: 'Table', apiVersion, metadata: {}, columnDefinitions: columns, rows };
}

function sumUsage(containers: readonly { usage: Record<string, string> }[]): Record<string, string> {
  const sums = new Map<string, Quantity>();
  for (const c of containers) {
    for (const [k, v] of Object.entries(c.usage)) {
      const q = parseQuantity(v);
      const prev = sums.get(k);
      sums.set(k, prev === undefined ? q : prev.add(q));
    }
  }
  const out: Record<string, string> = {};
  for (const [k, q] of sums) out[k] = q.toString();
  return out;
}

function byName<T extends { metadata?: { namespace?: string; name?: string } }>(a: T, b: T): number {
  const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function includeObject(url: URL): string {
  return url.searchParams.get('includeObject') ?? 'Metadata';
}

/** Serves one metrics.k8s.io request (`get` or `list`; dispatch has checked the verb). */
export async function handleMetricsRequest(
  src: MetricsSource,
  rr: ResourceRequest,
  r: ResourceInfo,
): Promise<void> {
  const { info, url } = rr;
  const rep = negotiate(rr.req.headers.accept as string | undefined, { table: true, partial: false });
  const nowMs = rr.now.getTime();
  const isNodes = r.plural === 'nodes';
  const send = (body: unknown): void => {
    if (rep.kind === 'object') writeObject(rr.res, 200, body, rep.mediaType);
    else writeObject(rr.res, 200, body);
  };
  if (info.verb === 'get') {
    const one = await getOne(src, isNodes, info.namespace, info.name, nowMs);
    if (rep.kind === 'table') {
      send(metricsTable([one], includeObject(url), rep.version));
      return;
    }
    send({ kind: r.kind, apiVersion: API_VERSION, ...one });
    return;
  }
  const q = parseListQuery(url.searchParams, false);
  const fieldsOf = (o: Node | Pod): Record<string, string> =>
    isNodes
      ? { 'metadata.name': o.metadata?.name ?? '' }
      : { 'metadata.name': o.metadata?.name ?? '', 'metadata.namespace': o.metadata?.namespace ?? '' };
  const objects = (await (isNodes ? src.nodes : src.pods).listAll(isNodes ? '' : info.namespace))
    .map((e) => e.obj as Node | Pod)
    .filter(
      (o) =>
        (q.labelSelector.empty() || q.labelSelector.matches(o.metadata?.labels ?? {})) &&
        (q.fieldSelector.empty() || q.fieldSelector.matches(fieldsOf(o))),
    )
    .sort(byName);
  const items: (NodeMetrics | PodMetrics)[] = [];
  for (const o of objects) {
    const m = isNodes
      ? nodeMetricsOf(o as Node, src.storage, nowMs)
      : podMetricsOf(o as Pod, src.storage, nowMs);
    if (m !== undefined) items.push(m);
  }
  if (rep.kind === 'table') {
    send(metricsTable(items, includeObject(url), rep.version));
    return;
  }
  send({ kind: r.listKind, apiVersion: API_VERSION, metadata: {}, items });
}

async function getOne(
  src: MetricsSource,
  isNodes: boolean,
  namespace: string,
  name: string,
  nowMs: number,
): Promise<NodeMetrics | PodMetrics> {
  if (isNodes) {
    const node = (await src.nodes.get('', name)) as Node;
    const m = nodeMetricsOf(node, src.storage, nowMs);
    if (m === undefined) throw notFound({ group: METRICS_GROUP, resource: 'nodes' }, name);
    return m;
  }
  const pod = (await src.pods.get(namespace, name)) as Pod;
  // metrics-server names the pod as namespace/name in its own NotFound.
  const m = podMetricsOf(pod, src.storage, nowMs);
  if (m === undefined) throw notFound({ group: METRICS_GROUP, resource: 'pods' }, `${namespace}/${name}`);
  return m;
}

/** The metrics.k8s.io group as an extension API of an API server. */
export function metricsExtension(src: MetricsSource): ExtensionAPI {
  return {
    group: { name: METRICS_GROUP, versions: [METRICS_VERSION], preferredVersion: METRICS_VERSION },
    resources: [NODE_METRICS, POD_METRICS],
    handle: (rr, r) => handleMetricsRequest(src, rr, r),
  };
}
