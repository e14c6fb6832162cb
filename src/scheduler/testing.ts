// Builders for scheduler tests and benchmarks: nodes and pods as plain API objects with the
// few fields scheduling reads, and a harness that runs one plugin's PreFilter + Filter (or
// PreScore + Score + NormalizeScore) over a snapshot, the way the framework would.

import type { Node, Pod, Taint, Toleration } from '../api/generated/types/core-v1.js';
import { realClock } from './clock.js';
import { RecordingSchedulerClient } from './client.js';
import { CycleState } from './framework/cycle-state.js';
import type { FrameworkRunner, Handle, NodeScore, Plugin, PluginFactory } from './framework/interfaces.js';
import { isFilter, isPreFilter, isPreScore, isScore } from './framework/interfaces.js';
import { ClusterListers } from './framework/listers.js';
import type { NodeInfo } from './framework/node-info.js';
import type { PodInfo } from './framework/pod-info.js';
import { Snapshot } from './framework/snapshot.js';
import { Code, isSuccess, type PluginStatus, Status } from './framework/status.js';
import { Nominator } from './queue/nominator.js';

/** Options for makeNode. */
export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
  images?: { names: string[]; sizeBytes: number }[];
}

/** A Node with allocatable resources and the hostname label. */
export function makeNode(name: string, o: NodeOptions = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: {
      allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '16Gi', pods: o.pods ?? '110', ...o.extra },
      images: o.images,
    },
  };
}

/** Options for makePod. */
export interface PodOptions {
  namespace?: string;
  node?: string;
  cpu?: string;
  memory?: string;
  priority?: number;
  labels?: Record<string, string>;
  tolerations?: Toleration[];
  schedulerName?: string;
  spec?: Partial<NonNullable<Pod['spec']>>;
  startTime?: string;
  uid?: string;
}

let uidCounter = 0;

/** A Pod with one container requesting cpu/memory when given. */
export function makePod(name: string, o: PodOptions = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu !== undefined) requests.cpu = o.cpu;
  if (o.memory !== undefined) requests.memory = o.memory;
  uidCounter++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `uid-${name}-${uidCounter}`,
      labels: o.labels,
      creationTimestamp: '2024-01-01T00:00:00Z',
    },
    spec: {
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests } }],
      nodeName: o.node,
      priority: o.priority,
      tolerations: o.tolerations,
      schedulerName: o.schedulerName,
      ...o.spec,
    },
    status:
      o.startTime !== undefined
        ? { phase: 'Running', startTime: o.startTime }
        : { phase: o.node ? 'Running' : 'Pending' },
  };
}

/** A Handle over a fixed snapshot, for calling plugins directly. */
export function testHandle(
  snapshot: Snapshot,
  listers = new ClusterListers(),
  runner?: FrameworkRunner,
): Handle {
  const client = new RecordingSchedulerClient();
  return {
    snapshot: () => snapshot,
    listers,
    client,
    nominator: new Nominator(),
    framework: () =>
      runner ?? {
        profileName: 'default-scheduler',
        runFilterPluginsWithNominatedPods: () => null,
        runPreFilterExtensionAddPod: () => null,
        runPreFilterExtensionRemovePod: () => null,
      },
    now: () => realClock.now(),
  };
}

/** The outcome of filtering one plugin over every node: node name → status ('' = fits). */
export function runFilter(
  plugin: Plugin,
  pod: Pod,
  snapshot: Snapshot,
): { pre: PluginStatus; byNode: Map<string, string> } {
  const state = new CycleState();
  let pre: PluginStatus = null;
  if (isPreFilter(plugin)) {
    const r = plugin.preFilter(state, pod, snapshot.nodeInfoList);
    pre = r === null || r instanceof Status ? r : r.status;
  }
  const byNode = new Map<string, string>();
  if (pre !== null && pre.code === Code.Skip) pre = null;
  else if (!isSuccess(pre)) return { pre, byNode };
  for (const ni of snapshot.nodeInfoList) {
    const s = isFilter(plugin) ? plugin.filter(state, pod, ni) : null;
    byNode.set(
      ni.name,
      s === null || s.code === Code.Success || s.code === Code.Skip ? '' : `${s.codeName()}: ${s.message()}`,
    );
  }
  return { pre, byNode };
}

/** PreScore + Score + NormalizeScore of one plugin over the given nodes. */
export function runScore(plugin: Plugin, pod: Pod, nodes: readonly NodeInfo[]): Map<string, number> {
  const state = new CycleState();
  const out = new Map<string, number>();
  if (isPreScore(plugin)) {
    const s = plugin.preScore(state, pod, nodes);
    if (s !== null && s.code === Code.Skip) {
      for (const n of nodes) out.set(n.name, 0);
      return out;
    }
  }
  if (!isScore(plugin)) return out;
  const scores: NodeScore[] = nodes.map((ni) => {
    const r = plugin.score(state, pod, ni);
    return { name: ni.name, score: typeof r === 'number' ? r : -1 };
  });
  plugin.scoreExtensions?.()?.normalizeScore(state, pod, scores);
  for (const s of scores) out.set(s.name, s.score);
  return out;
}

/** Builds a plugin from a registry factory over a snapshot built from objects. */
export function pluginFor(
  factory: PluginFactory,
  nodes: Node[],
  pods: Pod[] = [],
  args?: unknown,
  listers?: ClusterListers,
): { plugin: Plugin; snapshot: Snapshot } {
  const snapshot = Snapshot.fromObjects(nodes, pods);
  return { plugin: factory(args, testHandle(snapshot, listers)), snapshot };
}

/** Re-exported for tests that need PodInfo lists. */
export type { PodInfo };
