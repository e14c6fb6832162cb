// The events the kubelet records, with upstream's reasons (pkg/kubelet/events) and the
// messages of its runtime manager, image manager and node status setters: `kubectl describe`
// output is compared against upstream's, so both are kept verbatim here in one place.
// Recording never blocks: the EventBroadcaster queues and writes in the background, so a
// pod's startup never waits on the API for its events.

import type { Container, ObjectReference, Pod } from '../api/generated/types/core-v1.js';
import type { EventRecorder, EventType } from '../client/events.js';

/** Upstream's kubelet event reasons. */
export const EventReason = {
  CreatedContainer: 'Created',
  StartedContainer: 'Started',
  FailedToCreateContainer: 'Failed',
  FailedToStartContainer: 'Failed',
  KillingContainer: 'Killing',
  PreemptContainer: 'Preempting',
  BackOffStartContainer: 'BackOff',
  ExceededGracePeriod: 'ExceededGracePeriod',
  PullingImage: 'Pulling',
  PulledImage: 'Pulled',
  FailedToPullImage: 'Failed',
  FailedToInspectImage: 'InspectFailed',
  ErrImageNeverPullPolicy: 'ErrImageNeverPull',
  BackOffPullImage: 'BackOff',
  InvalidImageName: 'InvalidImageName',
  FailedToRetrieveImagePullSecret: 'FailedToRetrieveImagePullSecret',
  ContainerUnhealthy: 'Unhealthy',
  ContainerProbeWarning: 'ProbeWarning',
  FailedMountVolume: 'FailedMount',
  SandboxChanged: 'SandboxChanged',
  FailedCreatePodSandBox: 'FailedCreatePodSandBox',
  FailedPostStartHook: 'FailedPostStartHook',
  FailedPreStopHook: 'FailedPreStopHook',
  Evicted: 'Evicted',
  StartingKubelet: 'Starting',
  NodeAllocatableEnforced: 'NodeAllocatableEnforced',
  NodeReady: 'NodeReady',
  NodeNotReady: 'NodeNotReady',
} as const;

/** Which list of the pod spec a container is in (the event's `fieldPath`). */
export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

/** The spec list holding the container named `name` (containers when none does). */
export function containerListOf(pod: Pod, name: string): ContainerList {
  const s = pod.spec;
  if ((s?.initContainers ?? []).some((c) => c.name === name)) return 'initContainers';
  if ((s?.ephemeralContainers ?? []).some((c) => c.name === name)) return 'ephemeralContainers';
  return 'containers';
}

/** The reference of a pod as the kubelet's events name it. */
export function podRef(pod: Pod): ObjectReference {
  const m = pod.metadata ?? {};
  const ref: ObjectReference = { kind: 'Pod', apiVersion: 'v1' };
  if (m.namespace !== undefined) ref.namespace = m.namespace;
  if (m.name !== undefined) ref.name = m.name;
  if (m.uid !== undefined) ref.uid = m.uid;
  if (m.resourceVersion !== undefined) ref.resourceVersion = m.resourceVersion;
  return ref;
}

/** The reference of one container: the pod's, with `fieldPath` naming the container. */
export function containerRef(pod: Pod, name: string): ObjectReference {
  return { ...podRef(pod), fieldPath: `spec.${containerListOf(pod, name)}{${name}}` };
}

/** Upstream names a node in its events by name, with the name as its uid too. */
export function nodeRef(nodeName: string): ObjectReference {
  return { kind: 'Node', name: nodeName, uid: nodeName };
}

/** Upstream format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: Pod): string {
  const m = pod.metadata ?? {};
  return `${m.name ?? ''}_${m.namespace ?? ''}(${m.uid ?? ''})`;
}

function trimFraction(whole: number, frac: number, digits: number): string {
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Go's `time.Duration.String()` of a whole number of milliseconds (`523ms`, `1.2s`, `2m3.5s`). */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const seconds = `${trimFraction(s, total % 1000, 3)}s`;
  if (h > 0) return `${h}h${m}m${seconds}`;
  if (m > 0) return `${m}m${seconds}`;
  return seconds;
}

/** The Pulled message after a pull (upstream image manager). */
export function pulledMessage(image: string, pullMs: number, totalMs: number, sizeBytes: number): string {
  return `Successfully pulled image "${image}" in ${goDuration(pullMs)} (${goDuration(totalMs)} including waiting). Image size: ${sizeBytes} bytes.`;
}

/** `Node n status is now: X`, the message of every node condition event. */
export function nodeStatusMessage(nodeName: string, event: string): string {
  return `Node ${nodeName} status is now: ${event}`;
}

/** The node condition event upstream records when a condition takes `status`. */
export function nodeConditionEvent(type: string, status: string): string | undefined {
  const ok = status === 'True';
  switch (type) {
    case 'Ready':
      return ok ? EventReason.NodeReady : EventReason.NodeNotReady;
    case 'MemoryPressure':
      return ok ? 'NodeHasInsufficientMemory' : 'NodeHasSufficientMemory';
    case 'DiskPressure':
      return ok ? 'NodeHasDiskPressure' : 'NodeHasNoDiskPressure';
    case 'PIDPressure':
      return ok ? 'NodeHasInsufficientPID' : 'NodeHasSufficientPID';
    default:
      return undefined;
  }
}

/** The kubelet's recorder with references built in; without a recorder every call is a no-op. */
export class KubeletEvents {
  /** Events through `recorder` (none when undefined). */
  constructor(private readonly recorder?: EventRecorder) {}

  /** An event about the pod itself. */
  pod(pod: Pod, type: EventType, reason: string, message: string): void {
    this.recorder?.event(podRef(pod), type, reason, message);
  }

  /** An event about one of the pod's containers. */
  container(pod: Pod, c: Container | string, type: EventType, reason: string, message: string): void {
    this.recorder?.event(containerRef(pod, typeof c === 'string' ? c : c.name), type, reason, message);
  }

  /** An event about the node. */
  node(nodeName: string, type: EventType, reason: string, message: string): void {
    this.recorder?.event(nodeRef(nodeName), type, reason, message);
  }
}

/** The Unhealthy message of a failed probe run (`Liveness probe failed: …`). */
export function probeFailedMessage(type: 'liveness' | 'readiness' | 'startup', output: string): string {
  const name = `${type.charAt(0).toUpperCase()}${type.slice(1)}`;
  return `${name} probe failed: ${output}`;
}
