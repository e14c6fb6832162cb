// The objects a hollow node writes, rendered from its parameters: the Node it registers,
// its Lease, its node conditions, and the pod statuses of the stage templates (stages.ts).
// Addresses come from fake ranges (nodes 10.200.0.0/16, pods 10.42.0.0/16) that nothing
// ever sends traffic to; what matters is that they look like a kubelet's and are unique
// enough for controllers (endpoints, DNS) to tell pods apart.
import { createHash } from 'node:crypto';
import type { Lease } from '../api/generated/types/coordination-v1.js';
import type {
  ContainerStatus,
  Node,
  NodeCondition,
  Pod,
  PodCondition,
  PodStatus,
} from '../api/generated/types/core-v1.js';
import type { StatusTemplate } from './stages.js';

/** kubeletVersion reported by hollow nodes. */
export const HOLLOW_KUBELET_VERSION = 'v1.32.4-kts';
/** containerRuntimeVersion reported by hollow nodes (and the scheme of their container IDs). */
export const HOLLOW_RUNTIME = 'hollow://';
/** Namespace of node Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The shape of every hollow node. */
export interface HollowNodeSpec {
  cpu: string;
  memory: string;
  pods: number;
  ephemeralStorage: string;
  /** Number of zones to spread nodes over (0: no zone label). */
  zones: number;
  leaseDurationSeconds: number;
}

/** RFC 3339 with seconds, as metav1.Time serialises. */
export function rfc3339(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
export function rfc3339Micro(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

/** The fake InternalIP of node `index` (10.200.x.y, never contacted). */
export function nodeInternalIP(index: number): string {
  return `10.200.${Math.floor(index / 254) % 256}.${(index % 254) + 1}`;
}

/** The third octet of node `index`'s pod subnet 10.42.<octet>.0/24 (wraps past 256 nodes). */
export function podSubnetOctet(index: number): number {
  return index % 256;
}

/** Labels of hollow node `index`. */
export function nodeLabels(name: string, index: number, spec: HollowNodeSpec): Record<string, string> {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    type: 'hollow',
  };
  if (spec.zones > 0) labels['topology.kubernetes.io/zone'] = `zone-${index % spec.zones}`;
  return labels;
}

/** The node conditions of a healthy kubelet, heartbeating at `now`. */
export function nodeConditions(now: number, since: number): NodeCondition[] {
  const hb = rfc3339(now);
  const tr = rfc3339(since);
  const c = (type: string, status: string, reason: string, message: string): NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: hb,
    lastTransitionTime: tr,
  });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

function fakeId(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** The Node object hollow node `index` registers (status included, as a kubelet does). */
export function buildNode(name: string, index: number, spec: HollowNodeSpec, now: number): Node {
  const resources = {
    cpu: spec.cpu,
    memory: spec.memory,
    pods: String(spec.pods),
    'ephemeral-storage': spec.ephemeralStorage,
  };
  const id = fakeId(name, 32);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: nodeLabels(name, index, spec),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kts.io/hollow-node': 'true' },
    },
    spec: {},
    status: {
      capacity: { ...resources },
      allocatable: { ...resources },
      conditions: nodeConditions(now, now),
      addresses: [
        { type: 'InternalIP', address: nodeInternalIP(index) },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id,
        systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
        bootID: fakeId(`${name}/boot`, 32),
        kernelVersion: '6.1.0-hollow',
        osImage: 'kts hollow node',
        containerRuntimeVersion: HOLLOW_RUNTIME,
        kubeletVersion: HOLLOW_KUBELET_VERSION,
        kubeProxyVersion: HOLLOW_KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** The Lease of a node, held by the node itself (owned by the Node so it goes with it). */
export function buildLease(nodeName: string, nodeUid: string, spec: HollowNodeSpec, now: number): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid !== ''
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] }
        : {}),
    },
    spec: {
      holderIdentity: nodeName,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      renewTime: rfc3339Micro(now),
    },
  };
}

// Image IDs are looked up for every container of every pod: hash each image name once.
const imageIds = new Map<string, string>();

/** A plausible, stable imageID for an image reference (`<repo>@sha256:<digest>`). */
export function imageIdOf(image: string): string {
  let id = imageIds.get(image);
  if (id === undefined) {
    const at = image.indexOf('@');
    const repo = at >= 0 ? image.slice(0, at) : image.replace(/:[^/:]*$/, '');
    id = `${repo}@sha256:${createHash('sha256').update(image).digest('hex')}`;
    if (imageIds.size < 10_000) imageIds.set(image, id);
  }
  return id;
}

/** Where a pod runs, for its status. */
export interface PodPlacement {
  hostIP: string;
  podIP: string;
}

function podCondition(type: string, status: string, at: string, reason?: string): PodCondition {
  return { type, status, lastTransitionTime: at, ...(reason !== undefined ? { reason } : {}) };
}

function scheduledSince(pod: Pod, fallback: string): string {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.lastTransitionTime ?? fallback;
}

/**
 * The status the stage template gives `pod`: `running` starts every container (init
 * containers completed, sidecars running) on the placement; `succeeded` terminates them
 * with exit code 0. Fields the API server owns (qosClass) are carried over.
 */
export function renderPodStatus(
  template: StatusTemplate,
  pod: Pod,
  placement: PodPlacement,
  now: number,
): PodStatus {
  const at = rfc3339(now);
  const started = pod.status?.startTime ?? at;
  const uid = pod.metadata?.uid ?? '';
  const cid = (name: string): string => `${HOLLOW_RUNTIME}${uid}/${name}`;
  const spec = pod.spec;
  const running = template === 'running';
  const containerStatuses: ContainerStatus[] = (spec?.containers ?? []).map((c) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: imageIdOf(c.image ?? ''),
    containerID: cid(c.name),
    ready: running,
    started: running,
    restartCount: 0,
    state: running
      ? { running: { startedAt: started } }
      : {
          terminated: {
            exitCode: 0,
            reason: 'Completed',
            startedAt: started,
            finishedAt: at,
            containerID: cid(c.name),
          },
        },
  }));
  const initContainerStatuses: ContainerStatus[] = (spec?.initContainers ?? []).map((c) => {
    const sidecar = c.restartPolicy === 'Always' && running;
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: imageIdOf(c.image ?? ''),
      containerID: cid(c.name),
      ready: sidecar || running,
      started: sidecar,
      restartCount: 0,
      state: sidecar
        ? { running: { startedAt: started } }
        : {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt: started,
              finishedAt: started,
              containerID: cid(c.name),
            },
          },
    };
  });
  const scheduled = scheduledSince(pod, at);
  const conditions: PodCondition[] = running
    ? [
        podCondition('PodReadyToStartContainers', 'True', at),
        podCondition('Initialized', 'True', at),
        podCondition('Ready', 'True', at),
        podCondition('ContainersReady', 'True', at),
        podCondition('PodScheduled', 'True', scheduled),
      ]
    : [
        podCondition('PodReadyToStartContainers', 'False', at),
        podCondition('Initialized', 'True', started, 'PodCompleted'),
        podCondition('Ready', 'False', at, 'PodCompleted'),
        podCondition('ContainersReady', 'False', at, 'PodCompleted'),
        podCondition('PodScheduled', 'True', scheduled),
      ];
  return {
    phase: running ? 'Running' : 'Succeeded',
    conditions,
    hostIP: placement.hostIP,
    hostIPs: [{ ip: placement.hostIP }],
    podIP: placement.podIP,
    podIPs: [{ ip: placement.podIP }],
    startTime: started,
    ...(pod.status?.qosClass !== undefined ? { qosClass: pod.status.qosClass } : {}),
    containerStatuses,
    ...(initContainerStatuses.length > 0 ? { initContainerStatuses } : {}),
  };
}
