// The in-tree plugins: name → factory, the extension points each implements (so a
// multiPoint entry expands without instantiating anything), and upstream v1's default
// multiPoint list with its score weights.

import type { ExtensionPoint } from '../framework/framework.js';
import type { PluginFactory } from '../framework/interfaces.js';
import * as defaultBinder from './default-binder/default-binder.js';
import * as defaultPreemption from './default-preemption/default-preemption.js';
import * as imageLocality from './image-locality/image-locality.js';
import * as interPodAffinity from './inter-pod-affinity/inter-pod-affinity.js';
import * as nodeAffinity from './node-affinity/node-affinity.js';
import * as nodeName from './node-name/node-name.js';
import * as nodePorts from './node-ports/node-ports.js';
import * as balanced from './node-resources/balanced-allocation.js';
import * as fit from './node-resources/fit.js';
import * as nodeUnschedulable from './node-unschedulable/node-unschedulable.js';
import * as podTopologySpread from './pod-topology-spread/pod-topology-spread.js';
import * as prioritySort from './priority-sort/priority-sort.js';
import * as schedulingGates from './scheduling-gates/scheduling-gates.js';
import * as taintToleration from './taint-toleration/taint-toleration.js';
import * as volumeBinding from './volume-binding/volume-binding.js';

/** A registered plugin: its factory and the extension points it implements. */
export interface PluginRegistration {
  factory: PluginFactory;
  points: readonly ExtensionPoint[];
}

/** The in-tree plugins by upstream name. */
export const IN_TREE_PLUGINS: ReadonlyMap<string, PluginRegistration> = new Map<string, PluginRegistration>([
  [schedulingGates.NAME, { factory: schedulingGates.newSchedulingGates, points: ['preEnqueue'] }],
  [prioritySort.NAME, { factory: prioritySort.newPrioritySort, points: ['queueSort'] }],
  [nodeUnschedulable.NAME, { factory: nodeUnschedulable.newNodeUnschedulable, points: ['filter'] }],
  [nodeName.NAME, { factory: nodeName.newNodeName, points: ['filter'] }],
  [
    taintToleration.NAME,
    { factory: taintToleration.newTaintToleration, points: ['filter', 'preScore', 'score'] },
  ],
  [
    nodeAffinity.NAME,
    { factory: nodeAffinity.newNodeAffinity, points: ['preFilter', 'filter', 'preScore', 'score'] },
  ],
  [nodePorts.NAME, { factory: nodePorts.newNodePorts, points: ['preFilter', 'filter'] }],
  [fit.NAME, { factory: fit.newNodeResourcesFit, points: ['preFilter', 'filter', 'preScore', 'score'] }],
  [
    volumeBinding.NAME,
    { factory: volumeBinding.newVolumeBinding, points: ['preFilter', 'filter', 'reserve', 'preBind'] },
  ],
  [
    podTopologySpread.NAME,
    { factory: podTopologySpread.newPodTopologySpread, points: ['preFilter', 'filter', 'preScore', 'score'] },
  ],
  [
    interPodAffinity.NAME,
    { factory: interPodAffinity.newInterPodAffinity, points: ['preFilter', 'filter', 'preScore', 'score'] },
  ],
  [defaultPreemption.NAME, { factory: defaultPreemption.newDefaultPreemption, points: ['postFilter'] }],
  [balanced.NAME, { factory: balanced.newBalancedAllocation, points: ['preScore', 'score'] }],
  [imageLocality.NAME, { factory: imageLocality.newImageLocality, points: ['score'] }],
  [defaultBinder.NAME, { factory: defaultBinder.newDefaultBinder, points: ['bind'] }],
]);

/** Upstream v1's default multiPoint plugins, in order, with score weights. */
export const DEFAULT_MULTI_POINT: readonly { name: string; weight?: number }[] = [
  { name: schedulingGates.NAME },
  { name: prioritySort.NAME },
  { name: nodeUnschedulable.NAME },
  { name: nodeName.NAME },
  { name: taintToleration.NAME, weight: 3 },
  { name: nodeAffinity.NAME, weight: 2 },
  { name: nodePorts.NAME },
  { name: fit.NAME, weight: 1 },
  { name: volumeBinding.NAME },
  { name: podTopologySpread.NAME, weight: 2 },
  { name: interPodAffinity.NAME, weight: 2 },
  { name: defaultPreemption.NAME },
  { name: balanced.NAME, weight: 1 },
  { name: imageLocality.NAME, weight: 1 },
  { name: defaultBinder.NAME },
];
