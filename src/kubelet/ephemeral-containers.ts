// Ephemeral containers (`kubectl debug`): added to a running pod through the
// `ephemeralcontainers` subresource, started once by the kubelet beside the pod's containers
// and never restarted — an ephemeral container that exited stays exited, as upstream's
// computePodActions only ever starts those the runtime has never seen. One with a
// `targetContainerName` joins that container's process namespace (CRI NamespaceMode
// TARGET), so the debugger sees the target's processes; the process runtime runs every
// container in the node's namespaces, where that holds already.

import type { Container, EphemeralContainer, Pod } from '../api/generated/types/core-v1.js';
import type { Logger } from '../client/log.js';
import { type ContainerLifecycle, WaitingError } from './container-lifecycle.js';
import type { ContainerStatus as CriContainerStatus, PodSandboxConfig } from './runtime/runtime.js';
import type { WaitingReason } from './status-manager.js';

/** What starting a pod's ephemeral containers needs. */
export interface EphemeralSync {
  pod: Pod;
  /** Every container attempt of the pod in its current sandbox, newest first. */
  containers: CriContainerStatus[];
  lifecycle: ContainerLifecycle;
  sandboxId: string;
  sandboxConfig: PodSandboxConfig;
  podIPs: string[];
  volumes: Map<string, string>;
  /** Filled with the reason of each ephemeral container that could not start. */
  waiting: Map<string, WaitingReason>;
  logger: Logger;
}

/** An ephemeral container as the container it runs as (the fields they share). */
export function asContainer(ec: EphemeralContainer): Container {
  const { targetContainerName: _target, ...c } = ec;
  return c as Container;
}

/** The ephemeral containers of `pod` the runtime has never run. */
export function ephemeralToStart(pod: Pod, containers: CriContainerStatus[]): EphemeralContainer[] {
  const seen = new Set(containers.map((c) => c.metadata.name));
  return (pod.spec?.ephemeralContainers ?? []).filter((ec) => !seen.has(ec.name));
}

/** The id of the running container an ephemeral container targets, if it has one. */
export function targetContainerId(
  ec: EphemeralContainer,
  containers: CriContainerStatus[],
): string | undefined {
  const target = ec.targetContainerName;
  if (target === undefined || target === '') return undefined;
  return containers.find((c) => c.metadata.name === target && c.state === 'CONTAINER_RUNNING')?.id;
}

/** Starts every ephemeral container of the pod not started before (upstream: never restarted). */
export async function syncEphemeralContainers(s: EphemeralSync): Promise<void> {
  for (const ec of ephemeralToStart(s.pod, s.containers)) {
    const target = targetContainerId(ec, s.containers);
    try {
      await s.lifecycle.start({
        pod: s.pod,
        container: asContainer(ec),
        attempt: 0,
        sandboxId: s.sandboxId,
        sandboxConfig: s.sandboxConfig,
        podIPs: s.podIPs,
        volumes: s.volumes,
        ...(target !== undefined ? { targetContainerId: target } : {}),
      });
    } catch (e) {
      if (!(e instanceof WaitingError)) throw e;
      s.waiting.set(ec.name, { reason: e.reason, message: e.message });
      s.logger.error('starting ephemeral container failed', {
        pod: `${s.pod.metadata?.namespace ?? ''}/${s.pod.metadata?.name ?? ''}`,
        container: ec.name,
        reason: e.reason,
        err: e.message,
      });
    }
  }
}
