// One container's life in the runtime (upstream kuberuntime_container.go and the image
// manager): make sure its image is there, build its CRI config (env, mounts, resources),
// create and start it, run its postStart hook; and stop it gracefully (preStop hook, then
// SIGTERM/SIGKILL within the grace period). Each step records upstream's event on the
// container (Pulling/Pulled, Created, Started, Failed, Killing); a step that cannot
// complete throws a WaitingError carrying upstream's waiting reason for the status.

import type { Container, LifecycleHandler, Node, Pod, Secret } from '../api/generated/types/core-v1.js';
import type { Clock } from '../client/clock.js';
import { errorText } from '../client/log.js';
import { ContainerBackoff } from './container-backoff.js';
import { containerEnv, EnvError, type EnvSources, expandCommand } from './env.js';
import { EventReason, type KubeletEvents, pulledMessage } from './kubelet-events.js';
import { containerResources } from './pod-resources.js';
import { runProbe } from './probes.js';
import { keyringFromSecrets } from './pull-secrets.js';
import {
  type ContainerConfig,
  type ContainerRuntime,
  containerLogPath,
  type PodSandboxConfig,
  RuntimeError,
} from './runtime/runtime.js';
import { containerMounts, processVolumeEnv } from './volumes.js';

/** Label keys upstream's kubelet puts on sandboxes and containers. */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
/** The pod's namespace label. */
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
/** The pod's uid label: how the kubelet finds a pod's sandboxes and containers again. */
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
/** The container's name label. */
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

/** Upstream's floor on the time a container gets to stop. */
export const MIN_GRACE_SECONDS = 2;

/** A container that cannot start yet, with upstream's waiting reason. */
export class WaitingError extends Error {
  override readonly name = 'WaitingError';
  /**
   * A waiting error with `reason` (`ErrImagePull`, `CreateContainerConfigError`, …);
   * `retryAfterMs` is when trying again may succeed (an image pull backoff's end).
   */
  constructor(
    readonly reason: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** How soon a pod whose pull failed syncs again (to show ImagePullBackOff). */
const PULL_ERROR_RESYNC_MS = 1000;

/** The registry host of kts's own images, which exist only where kts imported them. */
const LOCAL_REGISTRY = 'kts.local';

function alreadyPresentMessage(image: string): string {
  return `Container image "${image}" already present on machine`;
}

/** A pull failure as upstream's kubelet words it (the CRI error as Go prints it). */
function pullErrorText(e: unknown): string {
  return e instanceof RuntimeError && e.rpcText !== undefined ? e.rpcText : errorText(e);
}

/** What starting and stopping containers needs. */
export interface ContainerLifecycleOptions {
  runtime: ContainerRuntime;
  hostIP: () => string;
  node: () => Node | undefined;
  sources: EnvSources;
  clock: Clock;
  events: KubeletEvents;
  /** The node's memory capacity, for Burstable containers' OOM score adjustment. */
  memoryCapacityBytes?: number;
  /** Told when a pod's start waits on an image pull from a registry (slow, worth showing). */
  onPull?: (pod: Pod) => void;
}

/** One container to start. */
export interface ContainerStart {
  pod: Pod;
  container: Container;
  attempt: number;
  sandboxId: string;
  sandboxConfig: PodSandboxConfig;
  podIPs: string[];
  /** Volume name → host path. */
  volumes: Map<string, string>;
  /** An ephemeral container's target: it joins that container's process namespace. */
  targetContainerId?: string;
}

// Docker's reference grammar, loosely: lowercase repository path components, then an
// optional tag and digest. Enough to reject what upstream rejects in practice (uppercase).
const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z0-9_+.-]+:[A-Za-z0-9=_-]+)?$/;

/** Whether `image` parses as an image reference. */
export function validImageName(image: string): boolean {
  return IMAGE_REF.test(image);
}

/** The effective pull policy (Always for `:latest` or untagged images, else IfNotPresent). */
export function pullPolicyOf(c: Pick<Container, 'image' | 'imagePullPolicy'>): string {
  const image = c.image ?? '';
  return (
    c.imagePullPolicy ?? (/:latest$|^[^:@]*$/.test(image.replace(/^[^/]*\//, '')) ? 'Always' : 'IfNotPresent')
  );
}

/** Starts and stops containers, recording their events. */
export class ContainerLifecycle {
  /** Per pod and image: the pull backoff (upstream's image manager keys it `uid_image`). */
  private readonly imageBackoff: ContainerBackoff;
  /** The last pull failure of each backoff key, for the ImagePullBackOff message. */
  private readonly lastPullError = new Map<string, string>();

  /** Lifecycle operations over `o.runtime`. */
  constructor(private readonly o: ContainerLifecycleOptions) {
    this.imageBackoff = new ContainerBackoff(o.clock);
  }

  /**
   * Makes sure the container's image is present; resolves to its id (upstream's image
   * manager EnsureImageExists). A failed pull puts the pod's image in backoff (10 s doubling
   * to 5 min): until it runs out the container waits in ImagePullBackOff without pulling.
   */
  async ensureImage(pod: Pod, c: Container, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const rt = this.o.runtime;
    const ev = this.o.events;
    const image = c.image ?? '';
    if (!validImageName(image)) {
      const msg = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
      ev.container(pod, c, 'Warning', EventReason.FailedToInspectImage, msg);
      throw new WaitingError('InvalidImageName', msg);
    }
    const policy = pullPolicyOf(c);
    const present = await rt.imageStatus(image);
    if (policy === 'Never') {
      if (present === null) {
        const msg = `Container image "${image}" is not present with pull policy of Never`;
        ev.container(pod, c, 'Warning', EventReason.ErrImageNeverPullPolicy, msg);
        throw new WaitingError('ErrImageNeverPull', msg);
      }
      return present.id;
    }
    if (policy === 'IfNotPresent' && present !== null) {
      ev.container(pod, c, 'Normal', EventReason.PulledImage, alreadyPresentMessage(image));
      return present.id;
    }
    const key = `${pod.metadata?.uid ?? ''}_${image}`;
    if (this.imageBackoff.isInBackOffSinceUpdate(key)) {
      const msg = `Back-off pulling image "${image}"`;
      ev.container(pod, c, 'Normal', EventReason.BackOffPullImage, msg);
      // Since 1.32 the waiting message carries the failure the backoff is for.
      const prev = this.lastPullError.get(key);
      throw new WaitingError(
        'ImagePullBackOff',
        prev === undefined ? msg : `${msg}: ${prev}`,
        Math.max(50, this.imageBackoff.remainingSinceUpdate(key)),
      );
    }
    this.lastPullError.delete(key);
    ev.container(pod, c, 'Normal', EventReason.PullingImage, `Pulling image "${image}"`);
    const t0 = this.o.clock.now();
    // kts's own images (kts.local/…, imported, never in a registry) have nothing to pull
    // from: with pull policy Always the imported copy is what a pull would resolve to, and
    // the Pulling event is followed by Pulled as after any pull.
    if (present !== null && image.startsWith(`${LOCAL_REGISTRY}/`)) {
      const took = this.o.clock.now() - t0;
      ev.container(pod, c, 'Normal', EventReason.PulledImage, pulledMessage(image, took, took, present.size));
      return present.id;
    }
    this.o.onPull?.(pod);
    try {
      const id = await this.pull(pod, image, sandboxConfig);
      const took = this.o.clock.now() - t0;
      const size = (await rt.imageStatus(image).catch(() => null))?.size ?? present?.size ?? 0;
      ev.container(pod, c, 'Normal', EventReason.PulledImage, pulledMessage(image, took, took, size));
      return id;
    } catch (e) {
      const text = pullErrorText(e);
      ev.container(
        pod,
        c,
        'Warning',
        EventReason.FailedToPullImage,
        `Failed to pull image "${image}": ${text}`,
      );
      this.imageBackoff.next(key, this.o.clock.now());
      this.lastPullError.set(key, `ErrImagePull: ${text}`);
      // Soon again, so the status moves on to ImagePullBackOff as upstream's does.
      throw new WaitingError('ErrImagePull', text, PULL_ERROR_RESYNC_MS);
    }
  }

  /**
   * Pulls with the credentials of the pod's imagePullSecrets that match the image's
   * registry, trying each until one works (anonymously when none match), as upstream.
   */
  private async pull(pod: Pod, image: string, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const secrets: Secret[] = [];
    const missing: string[] = [];
    const ns = pod.metadata?.namespace ?? '';
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      if (ref.name === undefined || ref.name === '') continue;
      const s = await this.o.sources.secret(ns, ref.name).catch(() => undefined);
      if (s === undefined) missing.push(ref.name);
      else secrets.push(s);
    }
    if (missing.length > 0) {
      this.o.events.pod(
        pod,
        'Warning',
        EventReason.FailedToRetrieveImagePullSecret,
        `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`,
      );
    }
    const creds = keyringFromSecrets(secrets).lookup(image);
    if (creds.length === 0) return this.o.runtime.pullImage(image, undefined, sandboxConfig);
    const errors: unknown[] = [];
    for (const auth of creds) {
      try {
        return await this.o.runtime.pullImage(image, auth, sandboxConfig);
      } catch (e) {
        errors.push(e);
      }
    }
    // Upstream's aggregate error: one error reads as itself, several as `[a, b]`.
    if (errors.length === 1) throw errors[0];
    throw new Error(`[${errors.map(pullErrorText).join(', ')}]`);
  }

  /** Forgets the image pull backoff of a pod that is gone. */
  forgetPod(uid: string): void {
    this.imageBackoff.forgetPrefix(`${uid}_`);
    for (const k of [...this.lastPullError.keys()]) if (k.startsWith(`${uid}_`)) this.lastPullError.delete(k);
  }

  /** Creates and starts one container (throws WaitingError when it cannot). */
  async start(s: ContainerStart): Promise<string> {
    try {
      return await this.createAndStart(s);
    } catch (e) {
      if (e instanceof WaitingError) {
        // Upstream reports the waiting reason itself for image errors, the message otherwise.
        const image = /^(ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName)$/.test(e.reason);
        this.o.events.container(
          s.pod,
          s.container,
          'Warning',
          EventReason.FailedToCreateContainer,
          `Error: ${image ? e.reason : e.message}`,
        );
      }
      throw e;
    }
  }

  private async createAndStart(s: ContainerStart): Promise<string> {
    const { pod, container: c, attempt, podIPs, volumes } = s;
    const m = pod.metadata ?? {};
    await this.ensureImage(pod, c, s.sandboxConfig);
    let envs: { key: string; value: string }[];
    try {
      envs = await containerEnv(
        c,
        { pod, podIP: podIPs[0] ?? '', podIPs, hostIP: this.o.hostIP(), node: this.o.node() },
        this.o.sources,
      );
    } catch (e) {
      if (e instanceof EnvError) throw new WaitingError('CreateContainerConfigError', e.message);
      throw e;
    }
    if (this.o.runtime.type === 'process') envs.push(...processVolumeEnv(c, volumes));
    const config: ContainerConfig = {
      metadata: { name: c.name, attempt },
      image: c.image ?? '',
      ...expandCommand(c, envs),
      envs,
      mounts: containerMounts(c, volumes),
      labels: {
        [LABEL_CONTAINER_NAME]: c.name,
        [LABEL_POD_NAME]: m.name ?? '',
        [LABEL_POD_NAMESPACE]: m.namespace ?? '',
        [LABEL_POD_UID]: m.uid ?? '',
      },
      annotations: {
        'io.kubernetes.container.restartCount': String(attempt),
        'io.kubernetes.container.terminationMessagePath': c.terminationMessagePath ?? '/dev/termination-log',
        'io.kubernetes.container.terminationMessagePolicy': c.terminationMessagePolicy ?? 'File',
        'io.kubernetes.pod.terminationGracePeriod': String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      },
      logPath: containerLogPath(c.name, attempt),
      stdin: c.stdin === true,
      stdinOnce: c.stdinOnce === true,
      tty: c.tty === true,
    };
    if (c.workingDir !== undefined) config.workingDir = c.workingDir;
    config.linux = { resources: containerResources(pod, c, this.o.memoryCapacityBytes ?? 0) };
    const ns = s.sandboxConfig.linux?.namespaceOptions;
    // Left out, CRI's zero value would put the container in the sandbox's PID namespace
    // (mode POD): its command would not be PID 1, and SIGTERM would kill what a PID 1
    // without a handler ignores. Upstream passes the pod's namespaces to every container.
    if (ns !== undefined) config.linux.namespaceOptions = { ...ns };
    if (s.targetContainerId !== undefined) {
      config.linux.namespaceOptions = {
        network: ns?.network ?? 'POD',
        ipc: ns?.ipc ?? 'POD',
        pid: 'TARGET',
        targetId: s.targetContainerId,
      };
    }
    let id: string;
    try {
      id = await this.o.runtime.createContainer(s.sandboxId, config, s.sandboxConfig);
    } catch (e) {
      throw new WaitingError('CreateContainerError', errorText(e));
    }
    this.o.events.container(pod, c, 'Normal', EventReason.CreatedContainer, `Created container: ${c.name}`);
    try {
      await this.o.runtime.startContainer(id);
    } catch (e) {
      throw new WaitingError('RunContainerError', errorText(e));
    }
    this.o.events.container(pod, c, 'Normal', EventReason.StartedContainer, `Started container ${c.name}`);
    const postStart = c.lifecycle?.postStart;
    if (postStart !== undefined) {
      const ok = await this.runHook(postStart, c, id, podIPs[0] ?? '', 30);
      if (!ok) {
        this.o.events.container(pod, c, 'Warning', EventReason.FailedPostStartHook, 'PostStartHook failed');
        await this.kill(pod, c, id, MIN_GRACE_SECONDS, podIPs[0] ?? '', 'FailedPostStartHook');
        throw new WaitingError('PostStartHookError', `PostStartHook failed`);
      }
    }
    return id;
  }

  /** Runs a lifecycle hook; false when it failed. */
  async runHook(
    h: LifecycleHandler,
    c: Container,
    id: string,
    podIP: string,
    timeoutSeconds: number,
  ): Promise<boolean> {
    if (h.sleep !== undefined) {
      await this.o.clock.sleep(Math.min(h.sleep.seconds, timeoutSeconds) * 1000);
      return true;
    }
    const out = await runProbe({ ...h, timeoutSeconds }, c, id, podIP, this.o.runtime);
    return out.result !== 'failure';
  }

  /**
   * Stops one container gracefully: preStop hook, then SIGTERM/SIGKILL with the rest of the
   * grace. `why` is the Killing event's message (default `Stopping container c`); a
   * container without a spec (an orphan) is stopped without an event.
   */
  async kill(
    pod: Pod | undefined,
    c: Container | undefined,
    id: string,
    graceSeconds: number,
    podIP: string,
    why?: string,
  ): Promise<void> {
    if (pod !== undefined && c !== undefined && why !== 'FailedPostStartHook') {
      this.o.events.container(
        pod,
        c,
        'Normal',
        EventReason.KillingContainer,
        why ?? `Stopping container ${c.name}`,
      );
    }
    const t0 = this.o.clock.now();
    const preStop = c?.lifecycle?.preStop;
    if (preStop !== undefined && c !== undefined && graceSeconds > 0) {
      await Promise.race([
        this.runHook(preStop, c, id, podIP, graceSeconds).catch(() => false),
        this.o.clock.sleep(graceSeconds * 1000),
      ]);
    }
    const left = graceSeconds - Math.floor((this.o.clock.now() - t0) / 1000);
    await this.o.runtime.stopContainer(id, graceSeconds <= 0 ? 0 : Math.max(left, MIN_GRACE_SECONDS));
  }
}
