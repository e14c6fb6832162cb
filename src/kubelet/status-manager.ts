// Pod status (upstream kubelet_pods.go generateAPIPodStatus + pkg/kubelet/status): the
// status is computed from what the runtime reports (sandbox, every container attempt),
// the probe results and the reasons the pod worker recorded for containers it could not
// start (CrashLoopBackOff, CreateContainerConfigError, …). The manager writes it through
// the `status` subresource only when it differs from what the API already holds,
// carrying over what the kubelet does not own (qosClass, startTime once set, condition
// transition times while the condition is unchanged, other components' conditions).

import type {
  Container,
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from '../api/generated/types/core-v1.js';
import type { Client } from '../client/interface.js';
import { PODS } from '../client/resources.js';
import { isNotFound } from '../machinery/status-error.js';
import { rfc3339 } from './node-status.js';
import type { ContainerStatus as CriContainerStatus, PodSandboxStatus } from './runtime/runtime.js';

/** A container the worker could not (yet) start, and why (upstream's waiting reasons). */
export interface WaitingReason {
  reason: string;
  message?: string;
}

/** Everything status computation needs about one pod. */
export interface PodStatusInputs {
  pod: Pod;
  /** Newest first. */
  sandboxes: PodSandboxStatus[];
  /** Every container attempt of the pod, newest first. */
  containers: CriContainerStatus[];
  waiting: Map<string, WaitingReason>;
  hostIP: string;
  podIPs: string[];
  /** Readiness and started-ness of a running container. */
  ready: (container: Container, containerId: string) => boolean;
  started: (container: Container, containerId: string) => boolean;
  /** `containerd` or `process`: the scheme of container IDs. */
  runtimeScheme: string;
  now: number;
  /** Set when the pod has failed for good (init container failed with restartPolicy Never). */
  failed?: boolean;
}

function nanosToTime(ns: bigint): string | undefined {
  return ns > 0n ? rfc3339(Number(ns / 1_000_000n)) : undefined;
}

/** The API's state of one runtime container attempt. */
export function apiContainerState(c: CriContainerStatus, scheme: string): ContainerState {
  if (c.state === 'CONTAINER_RUNNING') return { running: { startedAt: nanosToTime(c.startedAt) } };
  if (c.state === 'CONTAINER_EXITED') {
    const t: ContainerState['terminated'] = {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      containerID: `${scheme}://${c.id}`,
    };
    if (c.message !== '') t.message = c.message;
    const s = nanosToTime(c.startedAt);
    if (s !== undefined) t.startedAt = s;
    const f = nanosToTime(c.finishedAt);
    if (f !== undefined) t.finishedAt = f;
    return { terminated: t };
  }
  return { waiting: { reason: 'ContainerCreating' } };
}

function containerStatusOf(
  spec: Container,
  attempts: CriContainerStatus[],
  inputs: PodStatusInputs,
  defaultWaiting: string,
): ContainerStatus {
  const [latest, previous] = attempts;
  const waiting = inputs.waiting.get(spec.name);
  const status: ContainerStatus = {
    name: spec.name,
    image: spec.image ?? '',
    imageID: latest?.imageRef ?? '',
    ready: false,
    restartCount: latest?.metadata.attempt ?? 0,
    started: false,
    state: { waiting: { reason: defaultWaiting } },
    lastState: {},
  };
  if (latest === undefined) {
    if (waiting !== undefined) status.state = { waiting: { ...waiting } };
    return status;
  }
  status.containerID = `${inputs.runtimeScheme}://${latest.id}`;
  const state = apiContainerState(latest, inputs.runtimeScheme);
  if (latest.state === 'CONTAINER_EXITED' && waiting !== undefined) {
    // Restarting (or backing off): the exit becomes the last state, as upstream shows it.
    status.state = { waiting: { ...waiting } };
    status.lastState = state;
    // The attempt waiting to start is the next one.
    status.restartCount = latest.metadata.attempt + 1;
  } else {
    status.state = state;
    if (previous !== undefined && previous.state === 'CONTAINER_EXITED') {
      status.lastState = apiContainerState(previous, inputs.runtimeScheme);
    }
  }
  if (latest.state === 'CONTAINER_RUNNING') {
    status.started = inputs.started(spec, latest.id);
    status.ready = inputs.ready(spec, latest.id);
  }
  return status;
}

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

/** Upstream getPhase over the computed container statuses. */
export function podPhase(
  pod: Pod,
  init: ContainerStatus[],
  main: ContainerStatus[],
  failed: boolean,
): string {
  if (failed) return 'Failed';
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const initSpecs = pod.spec?.initContainers ?? [];
  for (const s of init) {
    const spec = initSpecs.find((c) => c.name === s.name);
    if (spec !== undefined && isSidecar(spec)) continue;
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated !== undefined && policy === 'Never') return 'Failed';
    return 'Pending';
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of main) {
    if (s.state?.running !== undefined) running++;
    else if (s.state?.terminated !== undefined) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated !== undefined) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  const c: PodCondition = { type, status: ok ? 'True' : 'False' };
  if (!ok && reason !== undefined) c.reason = reason;
  if (!ok && message !== undefined) c.message = message;
  return c;
}

/** Computes the pod's status (transition times are filled in by `mergeStatus`). */
export function computePodStatus(inputs: PodStatusInputs): PodStatus {
  const { pod } = inputs;
  const byName = new Map<string, CriContainerStatus[]>();
  for (const c of inputs.containers) {
    const list = byName.get(c.metadata.name) ?? [];
    list.push(c);
    byName.set(c.metadata.name, list);
  }
  const initSpecs = pod.spec?.initContainers ?? [];
  const init = initSpecs.map((c) =>
    containerStatusOf(c, byName.get(c.name) ?? [], inputs, 'PodInitializing'),
  );
  const initPending = init.filter((s, i) => {
    const spec = initSpecs[i];
    if (spec !== undefined && isSidecar(spec)) return !(s.started === true);
    return s.state?.terminated?.exitCode !== 0;
  });
  const main = (pod.spec?.containers ?? []).map((c) =>
    containerStatusOf(
      c,
      byName.get(c.name) ?? [],
      inputs,
      initPending.length > 0 ? 'PodInitializing' : 'ContainerCreating',
    ),
  );
  const phase = podPhase(pod, init, main, inputs.failed === true);
  const sandboxReady = inputs.sandboxes[0]?.state === 'SANDBOX_READY';
  const notReady = [
    ...main.filter((s) => !s.ready).map((s) => s.name),
    ...init
      .filter((s, i) => initSpecs[i] !== undefined && isSidecar(initSpecs[i] as Container) && !s.ready)
      .map((s) => s.name),
  ];
  const initialized = initPending.length === 0 || phase === 'Succeeded';
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = notReady.length === 0 && !completed;
  const unreadyMessage = `containers with unready status: [${notReady.join(' ')}]`;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandboxReady && !completed),
    condition(
      'Initialized',
      initialized,
      'ContainersNotInitialized',
      `containers with incomplete status: [${initPending.map((s) => s.name).join(' ')}]`,
    ),
    condition(
      'Ready',
      containersReady,
      completed ? 'PodCompleted' : 'ContainersNotReady',
      completed ? undefined : unreadyMessage,
    ),
    condition(
      'ContainersReady',
      containersReady,
      completed ? 'PodCompleted' : 'ContainersNotReady',
      completed ? undefined : unreadyMessage,
    ),
    condition('PodScheduled', true),
  ];
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
    containerStatuses: main,
  };
  if (init.length > 0) status.initContainerStatuses = init;
  // Ephemeral containers count for neither the phase nor readiness; they are only reported.
  // Upstream's prober sets ready and started for regular and init containers only: an
  // ephemeral container reads `ready: false` with no `started`, running or not.
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => {
    const st = containerStatusOf(c as Container, byName.get(c.name) ?? [], inputs, 'ContainerCreating');
    st.ready = false;
    delete st.started;
    return st;
  });
  if (ephemeral.length > 0) status.ephemeralContainerStatuses = ephemeral;
  if (inputs.podIPs.length > 0) {
    status.podIP = inputs.podIPs[0];
    status.podIPs = inputs.podIPs.map((ip) => ({ ip }));
  }
  return status;
}

/** Carries over what the kubelet does not own and transition times of unchanged conditions. */
export function mergeStatus(old: PodStatus | undefined, next: PodStatus, now: number): PodStatus {
  const at = rfc3339(now);
  const out: PodStatus = { ...next };
  out.startTime = old?.startTime ?? at;
  if (old?.qosClass !== undefined) out.qosClass = old.qosClass;
  const conditions = (next.conditions ?? []).map((c) => {
    const prev = old?.conditions?.find((p) => p.type === c.type);
    const keep = prev !== undefined && prev.status === c.status;
    const out: PodCondition = { ...c, lastTransitionTime: keep ? (prev.lastTransitionTime ?? at) : at };
    return out;
  });
  // Conditions other components own (readiness gates, DisruptionTarget, …) stay.
  for (const c of old?.conditions ?? []) if (!conditions.some((x) => x.type === c.type)) conditions.push(c);
  out.conditions = conditions;
  // Once a pod has an IP it keeps it while its containers stop.
  if (out.podIP === undefined && old?.podIP !== undefined) {
    out.podIP = old.podIP;
    if (old.podIPs !== undefined) out.podIPs = old.podIPs;
  }
  // A terminal phase is final, and so is why it was reached (an eviction's reason and message).
  if (old?.phase === 'Succeeded' || old?.phase === 'Failed') {
    out.phase = old.phase;
    if (out.reason === undefined && old.reason !== undefined) out.reason = old.reason;
    if (out.message === undefined && old.message !== undefined) out.message = old.message;
  }
  return out;
}

function normalized(s: PodStatus | undefined): string {
  return JSON.stringify(s ?? {}, (_k, v: unknown) => (v === null ? undefined : v));
}

/** Writes pod statuses through the status subresource when they changed. */
export class StatusManager {
  private readonly sent = new Map<string, string>();
  /** The status each pod had in the API after this manager's last write. */
  private readonly echo = new Map<string, string>();

  /** A manager writing with `client`. */
  constructor(private readonly client: Client) {}

  /**
   * Merges and writes `next` for `pod` (with `via` instead of the manager's client when
   * given); resolves to the written pod (or the input when unchanged).
   */
  async setStatus(pod: Pod, next: PodStatus, now: number, via?: Client): Promise<Pod> {
    const uid = pod.metadata?.uid ?? '';
    const merged = mergeStatus(pod.status, next, now);
    const key = normalized(merged);
    if (key === normalized(pod.status) || this.sent.get(uid) === key) return pod;
    try {
      const written = await (via ?? this.client)
        .resource(PODS)
        .patch(
          pod.metadata?.namespace ?? '',
          pod.metadata?.name ?? '',
          'merge',
          { metadata: { uid }, status: merged },
          { subresource: 'status' },
        );
      this.sent.set(uid, key);
      // What the API answered with is what its watch will show: the echo to recognise.
      this.echo.set(uid, normalized(written.status));
      return written;
    } catch (e) {
      if (isNotFound(e)) return pod;
      throw e;
    }
  }

  /** Whether the pod's status is exactly the one this manager last wrote for it (its own echo). */
  isOwnStatus(pod: Pod): boolean {
    const echo = this.echo.get(pod.metadata?.uid ?? '');
    return echo !== undefined && echo === normalized(pod.status);
  }

  /** Forgets a pod. */
  forget(uid: string): void {
    this.sent.delete(uid);
    this.echo.delete(uid);
  }
}
