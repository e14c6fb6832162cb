// Which nodes a DaemonSet's pods belong on (upstream daemon_controller.go
// NodeShouldRunDaemonPod and daemon/util): the pod must fit the node's name, nodeSelector
// and required node affinity, and tolerate its NoSchedule/NoExecute taints, counting the
// tolerations every daemon pod gets by default. A pod already on a node whose new taint it
// does not tolerate keeps running unless the taint is NoExecute.
import type { DaemonSet } from '../../api/generated/types/apps-v1.js';
import type {
  Affinity,
  Node,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PodSpec,
  Taint,
  Toleration,
} from '../../api/generated/types/core-v1.js';

/** The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations). */
export function defaultDaemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork)
    t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** Adds the default daemon tolerations to spec, replacing same-key-and-effect ones. */
export function addDaemonTolerations(spec: PodSpec): void {
  const out = [...(spec.tolerations ?? [])];
  for (const d of defaultDaemonTolerations(spec.hostNetwork === true)) {
    const i = out.findIndex((t) => (t.key ?? '') === d.key && (t.effect ?? '') === d.effect);
    if (i >= 0) out[i] = d;
    else out.push(d);
  }
  spec.tolerations = out;
}

/** True when the toleration tolerates the taint (v1.Toleration.ToleratesTaint). */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if ((t.effect ?? '') !== '' && t.effect !== taint.effect) return false;
  if ((t.key ?? '') !== '' && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** The first taint passing `filter` that no toleration tolerates. */
export function findUntoleratedTaint(
  taints: Taint[],
  tolerations: Toleration[],
  filter: (t: Taint) => boolean,
): Taint | undefined {
  return taints.find((taint) => filter(taint) && !tolerations.some((t) => toleratesTaint(t, taint)));
}

function matchRequirement(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(values[0] ?? '', 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return req.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** True when the node matches one selector term (all expressions and fields). */
export function matchNodeSelectorTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term matches nothing, as upstream.
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (!matchRequirement(r, labels[r.key])) return false;
  for (const r of fields) {
    const v = r.key === 'metadata.name' ? node.metadata?.name : undefined;
    if (!matchRequirement(r, v)) return false;
  }
  return true;
}

/** True when the node fits spec.nodeSelector and the required node affinity. */
export function fitsRequiredNodeAffinity(spec: PodSpec, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return terms.some((t) => matchNodeSelectorTerm(t, node));
}

/** Whether a daemon pod should be created on the node, and whether an existing one may stay. */
export interface NodeVerdict {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

/** NodeShouldRunDaemonPod. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeVerdict {
  const spec = JSON.parse(JSON.stringify(ds.spec?.template?.spec ?? { containers: [] })) as PodSpec;
  addDaemonTolerations(spec);
  const nodeName = node.metadata?.name ?? '';
  if ((spec.nodeName ?? '') !== '' && spec.nodeName !== nodeName)
    return { shouldRun: false, shouldContinueRunning: false };
  if (!fitsRequiredNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = spec.tolerations ?? [];
  const blocking = findUntoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  if (blocking !== undefined) {
    const evicting = findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute');
    return { shouldRun: false, shouldContinueRunning: evicting === undefined };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * Pins the pod to a node with a required `metadata.name In [node]` term, replacing other
 * required terms (ReplaceDaemonSetPodNodeNameNodeAffinity), so the scheduler binds it there.
 */
export function pinToNode(affinity: Affinity | undefined, nodeName: string): Affinity {
  const a: Affinity = affinity === undefined ? {} : (JSON.parse(JSON.stringify(affinity)) as Affinity);
  a.nodeAffinity ??= {};
  a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
  return a;
}

/** The node a daemon pod is for: its nodeName, else the pinned affinity's node (GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if ((pod.spec?.nodeName ?? '') !== '') return pod.spec?.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}
