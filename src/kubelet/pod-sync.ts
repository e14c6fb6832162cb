// One pod's reconciliation against the runtime (upstream kuberuntime_manager.go SyncPod /
// KillPod, level-based): the runtime is the only record of what runs — sandboxes and
// containers are found again by their `io.kubernetes.pod.uid` labels — so a restarted
// kubelet adopts what is running instead of starting it again. Each sync:
//   1. makes sure the pod has a ready sandbox (a new one kills what the old one held);
//   2. runs init containers one at a time, in order (restartable init containers —
//      sidecars — are started and left running);
//   3. starts missing containers, restarts exited ones per restartPolicy with the
//      CrashLoopBackOff backoff, and kills those whose liveness probe failed;
//   4. computes the pod status from what the runtime then reports.
// Killing a pod runs each container's preStop hook, then stops it with what is left of
// the grace period (SIGTERM, SIGKILL when it runs out), then removes the sandbox.

import type { Container, Node, Pod, PodStatus } from '../api/generated/types/core-v1.js';
import type { Clock } from '../client/clock.js';
import { errorText, type Logger } from '../client/log.js';
import { ContainerBackoff, crashLoopMessage } from './container-backoff.js';
import {
  ContainerLifecycle,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  WaitingError,
} from './container-lifecycle.js';
import { syncEphemeralContainers } from './ephemeral-containers.js';
import type { EnvSources } from './env.js';
import { EventReason, formatPod, KubeletEvents } from './kubelet-events.js';
import { Semaphore } from './object-cache.js';
import { podCgroupLimits, podCgroupPath, qosCgroup, qosClassOf } from './pod-resources.js';
import type { ProbeManager } from './probes.js';
import { type CgroupFs, hostCgroups } from './runtime/cgroupfs.js';
import {
  type ContainerRuntime,
  type ContainerStatus as CriContainerStatus,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type PortMapping,
  podLogDirectory,
} from './runtime/runtime.js';
import { computePodStatus, type WaitingReason } from './status-manager.js';
import { cleanupPodDir, setUpVolumes, VolumeError, type VolumeSources } from './volumes.js';

export {
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  WaitingError,
} from './container-lifecycle.js';

/** Exited attempts kept per container (the newest is the status' lastState). */
const KEEP_EXITED = 2;

/** What the syncer works with. */
export interface PodSyncerOptions {
  runtime: ContainerRuntime;
  /** `containerd` or `process`. */
  runtimeScheme: string;
  dataDir: string;
  /** Root of the `/var/log/pods`-style log directories. */
  podLogRoot: string;
  hostIP: () => string;
  node: () => Node | undefined;
  /** Whether pods that need the pod network can start (CNI configured). */
  networkReady: () => boolean;
  sources: EnvSources & VolumeSources;
  probes: ProbeManager;
  clock: Clock;
  logger: Logger;
  /** Parent of the QoS and pod cgroups (default `/kubepods`). */
  cgroupRoot?: string;
  /** The cgroup file system pod cgroups are written to (default the machine's). */
  cgroups?: CgroupFs;
  /** `--pod-max-pids`: the pids limit of each pod cgroup (default -1, unlimited). */
  podMaxPids?: number;
  /** The node's memory capacity, for Burstable containers' OOM score adjustment. */
  memoryCapacityBytes?: number;
  /** Sandboxes created at once (unbounded when omitted). */
  maxConcurrentSandboxes?: number;
  clusterDNS?: string;
  clusterDomain?: string;
  /** Where the pod and container events go (none when omitted). */
  events?: KubeletEvents;
  /**
   * Called with the pod's status before an exited container is restarted, so the API sees
   * the attempt terminated (`Completed`/`Error`) before the next one runs, as upstream's
   * status manager shows it between restarts.
   */
  beforeRestart?: (pod: Pod, status: PodStatus) => Promise<void>;
  /** Told when a pod's start waits on an image pull from a registry. */
  onPull?: (pod: Pod) => void;
}

/** The runtime's view of one pod. */
export interface PodRuntimeState {
  /** Newest first. */
  sandboxes: PodSandboxStatus[];
  /** Newest first. */
  containers: CriContainerStatus[];
}

/** The outcome of a sync. */
export interface SyncResult {
  status: PodStatus;
  /** Sync again after this long (backoff expiry, waiting for the network, …). */
  requeueAfterMs?: number;
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function ms(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

/** The pod's termination grace period in seconds (deletion's own, else the spec's, else 30). */
export function gracePeriodSeconds(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

/** Syncs and kills pods. */
export class PodSyncer {
  /** Restart backoff, shared by every pod of the node. */
  readonly backoff: ContainerBackoff;
  /** Starts and stops single containers. */
  readonly containers: ContainerLifecycle;
  private readonly events: KubeletEvents;
  private readonly sandboxSlots: Semaphore | undefined;
  /** The IPs of each pod's newest sandbox, kept once seen: a stopped sandbox reports none. */
  private readonly podIPs = new Map<string, string[]>();

  /** A syncer with its collaborators. */
  constructor(private readonly o: PodSyncerOptions) {
    this.backoff = new ContainerBackoff(o.clock);
    this.events = o.events ?? new KubeletEvents();
    this.containers = new ContainerLifecycle({
      runtime: o.runtime,
      hostIP: o.hostIP,
      node: o.node,
      sources: o.sources,
      clock: o.clock,
      events: this.events,
      ...(o.memoryCapacityBytes !== undefined ? { memoryCapacityBytes: o.memoryCapacityBytes } : {}),
      ...(o.onPull !== undefined ? { onPull: o.onPull } : {}),
    });
    if (o.maxConcurrentSandboxes !== undefined) this.sandboxSlots = new Semaphore(o.maxConcurrentSandboxes);
  }

  /** What the runtime holds for a pod. */
  async inspect(uid: string): Promise<PodRuntimeState> {
    const rt = this.o.runtime;
    const selector = { [LABEL_POD_UID]: uid };
    const sbs = await rt.listPodSandbox({ labelSelector: selector });
    const sandboxes = (await Promise.all(sbs.map((s) => rt.podSandboxStatus(s.id).catch(() => undefined))))
      .filter((s): s is PodSandboxStatus => s !== undefined)
      .sort((a, b) => (b.createdAt > a.createdAt ? 1 : b.createdAt < a.createdAt ? -1 : 0));
    return { sandboxes, containers: await this.inspectContainers(uid) };
  }

  /** The pod's container attempts, newest first. */
  private async inspectContainers(uid: string): Promise<CriContainerStatus[]> {
    const rt = this.o.runtime;
    const cs = await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } });
    const containers = (await Promise.all(cs.map((c) => rt.containerStatus(c.id).catch(() => undefined))))
      .filter((c): c is CriContainerStatus => c !== undefined)
      .sort((a, b) =>
        b.metadata.attempt !== a.metadata.attempt
          ? b.metadata.attempt - a.metadata.attempt
          : b.createdAt > a.createdAt
            ? 1
            : -1,
      );
    return containers;
  }

  private cgroupRoot(): string {
    return this.o.cgroupRoot ?? '/kubepods';
  }

  /** The pod's cgroup: the runtime's cgroup_parent of its sandbox and containers. */
  cgroupParent(pod: Pod): string {
    return podCgroupPath(this.cgroupRoot(), pod);
  }

  /**
   * Creates the QoS-class cgroups and the pod's own with its limits (upstream's pod
   * container manager), before the runtime puts anything in it.
   */
  private ensurePodCgroup(pod: Pod): void {
    const fs = this.o.cgroups ?? hostCgroups;
    const root = this.cgroupRoot();
    const qos = qosClassOf(pod);
    // Only the QoS cgroup the pod needs, so a node leaves no empty ones behind. Once there
    // (it goes only with its last pod) it is not written again: a burst of pods starting
    // would otherwise repeat dozens of synchronous cgroupfs writes per pod on the kubelet's thread.
    const parent = qosCgroup(root, qos);
    if (!fs.exists(parent)) {
      fs.ensure(root, {});
      // BestEffort pods share the smallest weight, whatever they do.
      if (qos === 'BestEffort') fs.ensure(qosCgroup(root, qos), { cpuShares: 2 });
      else if (qos === 'Burstable') fs.ensure(qosCgroup(root, qos), {});
    }
    fs.ensure(this.cgroupParent(pod), podCgroupLimits(pod, this.o.podMaxPids ?? -1));
  }

  /** The CRI sandbox config of a pod. */
  sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    const m = pod.metadata ?? {};
    const spec = pod.spec;
    const name = m.name ?? '';
    const ns = m.namespace ?? '';
    const uid = m.uid ?? '';
    const hostNetwork = spec?.hostNetwork === true;
    const ports: PortMapping[] = [];
    for (const c of spec?.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort === undefined || p.hostPort === 0) continue;
        const pm: PortMapping = { containerPort: p.containerPort, hostPort: p.hostPort };
        if (p.protocol === 'TCP' || p.protocol === 'UDP' || p.protocol === 'SCTP') pm.protocol = p.protocol;
        if (p.hostIP !== undefined) pm.hostIp = p.hostIP;
        ports.push(pm);
      }
    }
    const config: PodSandboxConfig = {
      metadata: { name, uid, namespace: ns, attempt },
      hostname: hostNetwork ? undefined : (spec?.hostname ?? name).slice(0, 63),
      logDirectory: podLogDirectory(this.o.podLogRoot, ns, name, uid),
      portMappings: ports,
      labels: {
        ...(m.labels ?? {}),
        [LABEL_POD_NAME]: name,
        [LABEL_POD_NAMESPACE]: ns,
        [LABEL_POD_UID]: uid,
      },
      annotations: { ...(m.annotations ?? {}) },
      linux: {
        namespaceOptions: {
          network: hostNetwork ? 'NODE' : 'POD',
          pid: spec?.hostPID === true ? 'NODE' : spec?.shareProcessNamespace === true ? 'POD' : 'CONTAINER',
          ipc: spec?.hostIPC === true ? 'NODE' : 'POD',
        },
      },
    };
    if (config.hostname === undefined) delete config.hostname;
    if (config.linux !== undefined) {
      config.linux.cgroupParent = this.cgroupParent(pod);
      const l = podCgroupLimits(pod);
      config.linux.resources = {
        ...(l.cpuShares !== undefined ? { cpuShares: l.cpuShares } : {}),
        ...(l.cpuQuota !== undefined ? { cpuQuota: l.cpuQuota, cpuPeriod: l.cpuPeriod ?? 100_000 } : {}),
        ...(l.memoryLimitInBytes !== undefined ? { memoryLimitInBytes: l.memoryLimitInBytes } : {}),
      };
    }
    const dns = this.dnsConfig(pod);
    if (dns !== undefined) config.dnsConfig = dns;
    return config;
  }

  private dnsConfig(pod: Pod): PodSandboxConfig['dnsConfig'] {
    const spec = pod.spec;
    let policy = spec?.dnsPolicy ?? 'ClusterFirst';
    if (policy === 'ClusterFirst' && spec?.hostNetwork === true) policy = 'Default';
    if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
    const extra = spec?.dnsConfig;
    let servers: string[] = [];
    let searches: string[] = [];
    let options: string[] = [];
    if (policy === 'ClusterFirst') {
      const domain = this.o.clusterDomain ?? 'cluster.local';
      const ns = pod.metadata?.namespace ?? '';
      servers = [this.o.clusterDNS ?? '10.43.0.10'];
      searches = [`${ns}.svc.${domain}`, `svc.${domain}`, domain];
      options = ['ndots:5'];
    } else if (policy !== 'None') {
      if (extra === undefined) return undefined;
    }
    servers.push(...(extra?.nameservers ?? []));
    searches.push(...(extra?.searches ?? []));
    for (const o of extra?.options ?? [])
      options.push(o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? ''));
    return { servers, searches, options };
  }

  private backoffKey(pod: Pod, c: Container): string {
    return `${pod.metadata?.uid ?? ''}/${c.name}`;
  }

  /** One reconciliation of a live (not deleting) pod. */
  async syncPod(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata?.uid ?? '';
    const spec = pod.spec;
    const waiting = new Map<string, WaitingReason>();
    let requeue: number | undefined;
    const wake = (afterMs: number): void => {
      requeue = requeue === undefined ? afterMs : Math.min(requeue, afterMs);
    };
    let state = await this.inspect(uid);
    const hostNetwork = spec?.hostNetwork === true;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    let failed = false;

    let sandbox = state.sandboxes[0];
    if (!terminal && (sandbox === undefined || sandbox.state !== 'SANDBOX_READY')) {
      const everRan = state.containers.length > 0;
      if (sandbox !== undefined && everRan && spec?.restartPolicy === 'Never') {
        // Upstream never recreates the sandbox of a Never pod whose containers already ran.
      } else if (!hostNetwork && !this.o.networkReady()) {
        for (const c of spec?.containers ?? []) waiting.set(c.name, { reason: 'ContainerCreating' });
        wake(1000);
      } else {
        if (sandbox !== undefined) {
          this.events.pod(
            pod,
            'Normal',
            EventReason.SandboxChanged,
            'Pod sandbox changed, it will be killed and re-created.',
          );
          await this.killPodContainers(pod, state, 0);
        }
        for (const s of state.sandboxes) await this.o.runtime.removePodSandbox(s.id).catch(() => {});
        const attempt = sandbox !== undefined ? sandbox.metadata.attempt + 1 : 0;
        const config = this.sandboxConfig(pod, attempt);
        this.ensurePodCgroup(pod);
        // Bounded: dozens of concurrent creations make every one of them slow.
        const run = (): Promise<string> => this.o.runtime.runPodSandbox(config);
        const id = await (this.sandboxSlots !== undefined ? this.sandboxSlots.run(run) : run());
        // A pod the runtime held nothing of has exactly the new sandbox (the common case,
        // a pod's first sync: a runtime call, not a relisting); otherwise look again.
        const fresh = state.sandboxes.length === 0 && state.containers.length === 0;
        state = fresh
          ? { sandboxes: [await this.o.runtime.podSandboxStatus(id)], containers: [] }
          : await this.inspect(uid);
        sandbox = state.sandboxes[0];
      }
    }
    const ready = !terminal && sandbox !== undefined && sandbox.state === 'SANDBOX_READY';
    const podIPs = this.podIPsOf(uid, sandbox, ready, hostNetwork);

    let volumes = new Map<string, string>();
    let volumesOk = false;
    if (ready) {
      try {
        volumes = await setUpVolumes(
          this.o.dataDir,
          pod,
          { pod, podIP: podIPs[0] ?? '', podIPs, hostIP: this.o.hostIP(), node: this.o.node() },
          this.o.sources,
        );
        volumesOk = true;
      } catch (e) {
        this.o.logger.error('volume setup failed', { pod: podKey(pod), err: errorText(e) });
        if (!(e instanceof VolumeError)) throw e;
        this.events.pod(pod, 'Warning', EventReason.FailedMountVolume, e.message);
        wake(2000);
      }
    }

    if (ready && volumesOk && sandbox !== undefined) {
      const sandboxId = sandbox.id;
      const config = this.sandboxConfig(pod, sandbox.metadata.attempt);
      // Replacing a sandbox removes the old one with its containers, so every attempt listed
      // belongs to the current sandbox.
      const inSandbox = (name: string): CriContainerStatus[] =>
        state.containers.filter((c) => c.metadata.name === name);
      const start = async (c: Container, attempt: number): Promise<void> => {
        try {
          await this.containers.start({
            pod,
            container: c,
            attempt,
            sandboxId,
            sandboxConfig: config,
            podIPs,
            volumes,
          });
        } catch (e) {
          if (!(e instanceof WaitingError)) throw e;
          waiting.set(c.name, { reason: e.reason, message: e.message });
          this.o.logger.error('starting container failed', {
            pod: podKey(pod),
            container: c.name,
            reason: e.reason,
            err: e.message,
          });
          wake(e.retryAfterMs ?? (this.backoff.get(this.backoffKey(pod, c)) || 2000));
        }
      };
      let reported = false;
      const restart = async (c: Container, last: CriContainerStatus): Promise<void> => {
        const key = this.backoffKey(pod, c);
        const finished = ms(last.finishedAt) || this.o.clock.now();
        if (this.backoff.isInBackOffSince(key, finished)) {
          const b = this.backoff.get(key);
          const m = pod.metadata ?? {};
          waiting.set(c.name, {
            reason: 'CrashLoopBackOff',
            message: crashLoopMessage(b, c.name, m.name ?? '', m.namespace ?? '', uid),
          });
          this.events.container(
            pod,
            c,
            'Warning',
            EventReason.BackOffStartContainer,
            `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`,
          );
          wake(Math.max(50, finished + b - this.o.clock.now()));
          return;
        }
        if (!reported && this.o.beforeRestart !== undefined) {
          // The exit is reported before the next attempt replaces it (once per sync).
          reported = true;
          await this.o.beforeRestart(pod, this.statusOf(pod, state, waiting, podIPs, sandbox, hostNetwork));
        }
        this.backoff.next(key, finished);
        await start(c, last.metadata.attempt + 1);
      };
      const shouldRestart = (c: Container, last: CriContainerStatus): boolean => {
        if (isSidecar(c)) return true;
        const policy = spec?.restartPolicy ?? 'Always';
        return policy === 'Always' || (policy === 'OnFailure' && last.exitCode !== 0);
      };

      // Init containers, strictly in order.
      let initDone = true;
      for (const ic of spec?.initContainers ?? []) {
        const latest = inSandbox(ic.name)[0];
        if (latest === undefined) {
          await start(ic, 0);
          if (!isSidecar(ic) || waiting.has(ic.name)) {
            initDone = false;
            break;
          }
          continue;
        }
        if (latest.state === 'CONTAINER_RUNNING') {
          if (isSidecar(ic) && this.o.probes.isStarted(uid, ic.name, latest.id)) {
            await this.maybeLivenessKill(pod, ic, latest, podIPs);
            continue;
          }
          initDone = false;
          break;
        }
        if (latest.state === 'CONTAINER_EXITED') {
          if (!isSidecar(ic) && latest.exitCode === 0) continue;
          if (!isSidecar(ic) && spec?.restartPolicy === 'Never') failed = true;
          else await restart(ic, latest);
        }
        initDone = false;
        break;
      }

      if (initDone && !failed) {
        for (const c of spec?.containers ?? []) {
          const latest = inSandbox(c.name)[0];
          if (latest === undefined) await start(c, 0);
          else if (latest.state === 'CONTAINER_RUNNING') {
            if (await this.maybeLivenessKill(pod, c, latest, podIPs)) wake(0);
          } else if (latest.state === 'CONTAINER_EXITED' && shouldRestart(c, latest))
            await restart(c, latest);
          else if (latest.state === 'CONTAINER_CREATED')
            await this.o.runtime.startContainer(latest.id).catch(() => {});
        }
      }
      if (initDone && !failed) {
        await syncEphemeralContainers({
          pod,
          containers: state.containers,
          lifecycle: this.containers,
          sandboxId,
          sandboxConfig: config,
          podIPs,
          volumes,
          waiting,
          logger: this.o.logger,
        });
      }
      await this.pruneExited(state);
      // The sandbox was settled above: only the containers changed.
      state = { sandboxes: state.sandboxes, containers: await this.inspectContainers(uid) };
    }

    const running = new Map<string, { id: string; startedAtMs: number }>();
    for (const c of state.containers) {
      if (c.state === 'CONTAINER_RUNNING' && !running.has(c.metadata.name))
        running.set(c.metadata.name, { id: c.id, startedAtMs: ms(c.startedAt) });
    }
    this.o.probes.syncPod(pod, podIPs[0] ?? '', running);
    const status = this.statusOf(pod, state, waiting, podIPs, sandbox, hostNetwork, failed);
    const result: SyncResult = { status };
    if (requeue !== undefined) result.requeueAfterMs = requeue;
    return result;
  }

  /**
   * The pod's IPs: its sandbox's, remembered once seen, since a stopped sandbox reports
   * none and upstream keeps a pod's IP once set. Pods on the node's network (hostNetwork,
   * the process runtime) report the node's address.
   */
  private podIPsOf(
    uid: string,
    sandbox: PodSandboxStatus | undefined,
    ready: boolean,
    hostNetwork: boolean,
  ): string[] {
    if (sandbox !== undefined && sandbox.ip !== '') {
      const ips = [sandbox.ip, ...sandbox.additionalIps];
      this.podIPs.set(uid, ips);
      return ips;
    }
    const known = this.podIPs.get(uid);
    if (known !== undefined) return known;
    if (hostNetwork || this.o.runtime.type === 'process' || ready) return [this.o.hostIP()];
    return [];
  }

  private statusOf(
    pod: Pod,
    state: PodRuntimeState,
    waiting: Map<string, WaitingReason>,
    podIPs: string[],
    sandbox: PodSandboxStatus | undefined,
    hostNetwork: boolean,
    failed = false,
  ): PodStatus {
    const uid = pod.metadata?.uid ?? '';
    return computePodStatus({
      pod,
      sandboxes: state.sandboxes,
      containers: state.containers,
      waiting,
      hostIP: this.o.hostIP(),
      podIPs: sandbox !== undefined || hostNetwork ? podIPs : [],
      ready: (c, id) => this.o.probes.isReady(uid, c, id),
      started: (c, id) => this.o.probes.isStarted(uid, c.name, id),
      runtimeScheme: this.o.runtimeScheme,
      now: this.o.clock.now(),
      failed,
    });
  }

  /** The status of a pod nothing was created for yet: every container ContainerCreating. */
  pendingStatus(pod: Pod): PodStatus {
    return computePodStatus({
      pod,
      sandboxes: [],
      containers: [],
      waiting: new Map(),
      hostIP: this.o.hostIP(),
      podIPs: [],
      ready: () => false,
      started: () => false,
      runtimeScheme: this.o.runtimeScheme,
      now: this.o.clock.now(),
    });
  }

  /** Stops one container gracefully (see ContainerLifecycle.kill). */
  killContainer(
    pod: Pod | undefined,
    c: Container | undefined,
    id: string,
    graceSeconds: number,
    podIP: string,
    why?: string,
  ): Promise<void> {
    return this.containers.kill(pod, c, id, graceSeconds, podIP, why);
  }

  /** Kills a container whose liveness (or startup) probe failed; true when it did. */
  private async maybeLivenessKill(
    pod: Pod,
    c: Container,
    latest: CriContainerStatus,
    podIPs: string[],
  ): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const failedProbe = this.o.probes.failedProbe(uid, c.name, latest.id);
    if (failedProbe === undefined) return false;
    this.o.logger.info('container failed its probe; restarting', {
      pod: podKey(pod),
      container: c.name,
      probe: failedProbe.type,
      output: failedProbe.output,
    });
    const probeName = failedProbe.type === 'startup' ? 'startup' : 'liveness';
    await this.killContainer(
      pod,
      c,
      latest.id,
      pod.spec?.terminationGracePeriodSeconds ?? 30,
      podIPs[0] ?? '',
      `Container ${c.name} failed ${probeName} probe, will be restarted`,
    );
    return true;
  }

  /** Removes exited attempts beyond the newest few per container name. */
  private async pruneExited(state: PodRuntimeState): Promise<void> {
    const seen = new Map<string, number>();
    for (const c of state.containers) {
      const n = (seen.get(c.metadata.name) ?? 0) + 1;
      seen.set(c.metadata.name, n);
      if (n > KEEP_EXITED && c.state === 'CONTAINER_EXITED')
        await this.o.runtime.removeContainer(c.id).catch(() => {});
    }
  }

  private async killPodContainers(pod: Pod, state: PodRuntimeState, graceSeconds: number): Promise<void> {
    const specs: Container[] = [
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.containers ?? []),
      ...((pod.spec?.ephemeralContainers ?? []) as Container[]),
    ];
    const podIP = state.sandboxes[0]?.ip ?? '';
    await Promise.all(
      state.containers
        .filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED')
        .map((c) =>
          this.killContainer(
            pod.metadata?.uid !== undefined ? pod : undefined,
            specs.find((s) => s.name === c.metadata.name),
            c.id,
            graceSeconds,
            podIP,
          ).catch((e: unknown) =>
            this.o.logger.error('stopping container failed', {
              pod: podKey(pod),
              container: c.metadata.name,
              err: errorText(e),
            }),
          ),
        ),
    );
  }

  /**
   * Stops every container of the pod within the grace period and stops its sandboxes;
   * resolves to the final runtime state (containers exited, still listed for the status).
   */
  async killPod(pod: Pod, graceSeconds: number): Promise<PodRuntimeState> {
    const uid = pod.metadata?.uid ?? '';
    const state = await this.inspect(uid);
    await this.killPodContainers(pod, state, graceSeconds);
    for (const s of state.sandboxes) await this.o.runtime.stopPodSandbox(s.id).catch(() => {});
    this.o.probes.removePod(uid);
    return this.inspect(uid);
  }

  /** Removes everything the pod left behind: containers, sandboxes, volumes, logs, cgroups. */
  async cleanupPod(uid: string, pod?: Pod): Promise<void> {
    const state = await this.inspect(uid);
    // The pod was killed already: its volumes go first, so once the runtime lists none of
    // its containers nothing of the pod is left on the node.
    await cleanupPodDir(this.o.dataDir, uid);
    for (const c of state.containers) await this.o.runtime.removeContainer(c.id).catch(() => {});
    for (const s of state.sandboxes) {
      await this.o.runtime.stopPodSandbox(s.id).catch(() => {});
      await this.o.runtime.removePodSandbox(s.id).catch(() => {});
    }
    this.o.probes.removePod(uid);
    this.podIPs.delete(uid);
    this.backoff.forgetPrefix(`${uid}/`);
    this.containers.forgetPod(uid);
    if (pod !== undefined) removeCgroupDirs(this.cgroupParent(pod));
  }

  /**
   * Removes pod cgroups (`pod<uid>` under the QoS cgroups) of pods the node no longer has:
   * left by a kubelet that stopped before cleaning up. A cgroup still holding tasks or
   * containers cannot be removed, so a live pod is never touched.
   */
  removeOrphanedCgroups(keep: (uid: string) => boolean): void {
    const fs = this.o.cgroups ?? hostCgroups;
    const root = this.cgroupRoot();
    for (const qos of ['Guaranteed', 'Burstable', 'BestEffort']) {
      const parent = qosCgroup(root, qos);
      for (const child of fs.children(parent)) {
        if (!child.startsWith('pod') || keep(child.slice(3))) continue;
        fs.remove(`${parent}/${child}`, { retryMs: 0 });
      }
    }
  }

  /** The whole status of a pod that was killed (every container terminated). */
  statusAfterKill(pod: Pod, state: PodRuntimeState): PodStatus {
    const uid = pod.metadata?.uid ?? '';
    return computePodStatus({
      pod,
      sandboxes: state.sandboxes,
      containers: state.containers,
      waiting: new Map(),
      hostIP: this.o.hostIP(),
      podIPs: [],
      ready: () => false,
      started: (c, id) => this.o.probes.isStarted(uid, c.name, id),
      runtimeScheme: this.o.runtimeScheme,
      now: this.o.clock.now(),
    });
  }
}

/** Removes an (empty) cgroup in every hierarchy, and its ancestors while they are empty. */
export function removeCgroupDirs(parent: string): void {
  hostCgroups.remove(parent, { ancestors: true, retryMs: 0 });
}
