// Pods: the table users read most. READY counts ready containers (started restartable init
// containers — sidecars — included), STATUS condenses phase, init progress and container
// states into one word the way upstream's printPod does, and RESTARTS says when the last
// restart happened.
import type {
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
} from '../../api/generated/types/core-v1.js';
import type { KObject } from '../registry/object.js';
import { AGE_COLUMN, NAME_COLUMN, age, column, parseTime } from './format.js';
import { humanDuration } from '../../machinery/duration.js';
import type { PrintContext, ResourcePrinter, TableRowCondition } from './table.js';

const POD_COLUMNS = [
  NAME_COLUMN,
  column('Ready', 'string', 'Ready containers out of all containers of the pod.'),
  column('Status', 'string', 'A one-word summary of the pod and its containers.'),
  column('Restarts', 'string', 'Container restarts in the pod, and how long ago the last one was.'),
  AGE_COLUMN,
  column('IP', 'string', 'The pod IP address.', { wide: true }),
  column('Node', 'string', 'The node the pod is bound to.', { wide: true }),
  column('Nominated Node', 'string', 'The node preemption nominated for the pod.', { wide: true }),
  column('Readiness Gates', 'string', 'Readiness gates whose condition is True, out of all.', { wide: true }),
];

const SUCCEEDED_CONDITIONS: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const FAILED_CONDITIONS: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

// The pod reason the node lifecycle controller sets on pods of an unreachable node.
const NODE_UNREACHABLE_REASON = 'NodeLost';

function conditionStatus(conditions: PodCondition[] | undefined, type: string): string | undefined {
  if (!Array.isArray(conditions)) return undefined;
  for (const c of conditions) if (c.type === type) return c.status;
  return undefined;
}

function hasReadyCondition(conditions: PodCondition[] | undefined): boolean {
  if (!Array.isArray(conditions)) return false;
  // Any True Ready condition counts, as upstream's hasPodReadyCondition looks at all of them.
  for (const c of conditions) if (c.type === 'Ready' && c.status === 'True') return true;
  return false;
}

// The time a container last terminated, from its lastState; -Infinity for Go's zero time.
function lastTermination(status: ContainerStatus): number {
  const t = parseTime(status.lastState?.terminated?.finishedAt);
  return t === undefined ? Number.NEGATIVE_INFINITY : t;
}

function terminatedReason(state: ContainerState, prefix: string): string | undefined {
  const term = state.terminated;
  if (term === undefined || term === null) return undefined;
  if (term.reason) return prefix + term.reason;
  if (term.signal) return `${prefix}Signal:${term.signal}`;
  return `${prefix}ExitCode:${term.exitCode ?? 0}`;
}

/** The STATUS, READY and RESTARTS cells of a pod, as upstream's printPod computes them. */
export function podSummary(pod: Pod, nowMs: number): { ready: string; status: string; restarts: string } {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const containers = spec?.containers ?? [];
  const initContainers = spec?.initContainers ?? [];
  let total = containers.length;
  let readyCount = 0;
  let restarts = 0;
  let restartableRestarts = 0;
  let lastRestart = Number.NEGATIVE_INFINITY;
  let lastRestartableRestart = Number.NEGATIVE_INFINITY;

  const phase = status.phase ?? '';
  let reason = status.reason ? status.reason : phase;
  const conditions = status.conditions;
  if (Array.isArray(conditions)) {
    for (const c of conditions) {
      if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
    }
  }

  // Sidecars (init containers with restartPolicy Always) count as containers of the pod.
  let restartable: Set<string> | undefined;
  for (const ic of initContainers) {
    if (ic.restartPolicy === 'Always') {
      restartable ??= new Set();
      restartable.add(ic.name);
      total++;
    }
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] as ContainerStatus;
    const count = c.restartCount ?? 0;
    restarts += count;
    const terminatedAt = lastTermination(c);
    if (terminatedAt > lastRestart) lastRestart = terminatedAt;
    const isSidecar = restartable?.has(c.name) === true;
    if (isSidecar) {
      restartableRestarts += count;
      if (terminatedAt > lastRestartableRestart) lastRestartableRestart = terminatedAt;
    }
    const state = c.state ?? {};
    if (state.terminated && (state.terminated.exitCode ?? 0) === 0) continue;
    if (isSidecar && c.started === true) {
      if (c.ready) readyCount++;
      continue;
    }
    const failed = terminatedReason(state, 'Init:');
    if (failed !== undefined) reason = failed;
    else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing')
      reason = `Init:${state.waiting.reason}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }

  if (!initializing || conditionStatus(conditions, 'Initialized') === 'True') {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Upstream walks the statuses backwards, so the first container's state wins.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] as ContainerStatus;
      restarts += c.restartCount ?? 0;
      const terminatedAt = lastTermination(c);
      if (terminatedAt > lastRestart) lastRestart = terminatedAt;
      const state = c.state ?? {};
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated) reason = terminatedReason(state, '') as string;
      else if (c.ready && state.running) {
        hasRunning = true;
        readyCount++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasReadyCondition(conditions) ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === NODE_UNREACHABLE_REASON) reason = 'Unknown';
    else if (phase !== 'Failed' && phase !== 'Succeeded') reason = 'Terminating';
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== Number.NEGATIVE_INFINITY) {
    restartsCell = `${restarts} (${humanDuration(nowMs - lastRestart)} ago)`;
  }
  return { ready: `${readyCount}/${total}`, status: reason, restarts: restartsCell };
}

function readinessGatesCell(pod: Pod): string {
  const gates = pod.spec?.readinessGates;
  if (!Array.isArray(gates) || gates.length === 0) return '<none>';
  let trueCount = 0;
  for (const gate of gates) {
    if (conditionStatus(pod.status?.conditions, gate.conditionType) === 'True') trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

function podCells(obj: KObject, ctx: PrintContext): unknown[] {
  const pod = obj as unknown as Pod;
  const summary = podSummary(pod, ctx.nowMs);
  const status = pod.status;
  // Internal pods always have podIPs; a v1 object written with only podIP is converted so.
  const podIP = status?.podIPs?.[0]?.ip || status?.podIP || '<none>';
  return [
    pod.metadata?.name ?? '',
    summary.ready,
    summary.status,
    summary.restarts,
    age(obj, ctx.nowMs),
    podIP,
    pod.spec?.nodeName || '<none>',
    status?.nominatedNodeName || '<none>',
    readinessGatesCell(pod),
  ];
}

/** Pods (`kubectl get pods`). */
export const PODS: ResourcePrinter = {
  columns: POD_COLUMNS,
  cells: podCells,
  conditions(obj) {
    const phase = (obj as unknown as Pod).status?.phase;
    if (phase === 'Succeeded') return SUCCEEDED_CONDITIONS;
    if (phase === 'Failed') return FAILED_CONDITIONS;
    return undefined;
  },
};
