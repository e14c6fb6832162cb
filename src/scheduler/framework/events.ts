// Cluster events that may make an unschedulable pod schedulable. Each plugin registers the
// events relevant to its rejections; the queue moves a pod back only on an event one of the
// plugins that rejected it cares about (upstream's framework/types.go ClusterEvent).

/** Bit flags of what happened to an object. */
export const ActionType = {
  Add: 1 << 0,
  Delete: 1 << 1,
  UpdateNodeAllocatable: 1 << 2,
  UpdateNodeLabel: 1 << 3,
  UpdateNodeTaint: 1 << 4,
  UpdateNodeCondition: 1 << 5,
  UpdateNodeAnnotation: 1 << 6,
  UpdatePodLabel: 1 << 7,
  UpdatePodScaleDown: 1 << 8,
  UpdatePodTolerations: 1 << 9,
  UpdatePodSchedulingGatesEliminated: 1 << 10,
  /** Any other update. */
  UpdateOther: 1 << 11,
  Update: (1 << 12) - 1 - (1 << 0) - (1 << 1),
  All: (1 << 12) - 1,
} as const;

/** The kinds of object events are about; AssignedPod is a pod bound to a node. */
export type EventResource =
  | 'AssignedPod'
  | 'UnschedulablePod'
  | 'Node'
  | 'PersistentVolume'
  | 'PersistentVolumeClaim'
  | 'StorageClass'
  | 'CSINode'
  | 'Namespace'
  | 'Service'
  | 'PodDisruptionBudget'
  | '*';

/** An event: a resource and what happened (bit flags). */
export interface ClusterEvent {
  resource: EventResource;
  actionType: number;
  /** A name for logs and metrics. */
  label?: string;
}

/** True when a registered event covers the event that happened. */
export function eventMatches(registered: ClusterEvent, happened: ClusterEvent): boolean {
  if (registered.resource !== '*' && registered.resource !== happened.resource) return false;
  return (registered.actionType & happened.actionType) !== 0;
}

/** Well-known events, as the scheduler's event handlers emit them. */
export const Events = {
  NodeAdd: { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' },
  AssignedPodAdd: { resource: 'AssignedPod', actionType: ActionType.Add, label: 'AssignedPodAdd' },
  AssignedPodDelete: { resource: 'AssignedPod', actionType: ActionType.Delete, label: 'AssignedPodDelete' },
  AssignedPodUpdate: { resource: 'AssignedPod', actionType: ActionType.Update, label: 'AssignedPodUpdate' },
  UnschedulableTimeout: { resource: '*', actionType: ActionType.All, label: 'UnschedulableTimeout' },
  ForceActivate: { resource: '*', actionType: ActionType.All, label: 'ForceActivate' },
} as const satisfies Record<string, ClusterEvent>;

interface NodeLike {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: unknown[] };
  status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}

/** The update flags describing how a node changed (upstream's nodeSchedulingPropertiesChange). */
export function nodeUpdateActions(oldNode: NodeLike, newNode: NodeLike): number {
  let a = 0;
  const j = (v: unknown): string => JSON.stringify(v ?? null);
  if (j(oldNode.status?.allocatable) !== j(newNode.status?.allocatable))
    a |= ActionType.UpdateNodeAllocatable;
  if (j(oldNode.metadata?.labels) !== j(newNode.metadata?.labels)) a |= ActionType.UpdateNodeLabel;
  if (
    j(oldNode.spec?.taints) !== j(newNode.spec?.taints) ||
    (oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false)
  ) {
    a |= ActionType.UpdateNodeTaint;
  }
  const conds = (n: NodeLike): string => j((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  if (conds(oldNode) !== conds(newNode)) a |= ActionType.UpdateNodeCondition;
  if (j(oldNode.metadata?.annotations) !== j(newNode.metadata?.annotations))
    a |= ActionType.UpdateNodeAnnotation;
  return a;
}
