// The pod network as the `process` runtime's kubelet uses it: one named network namespace
// per pod sandbox, attached with the node's conflist (eth0) and the loopback network (lo),
// detached in the reverse order before the namespace is deleted. containerd does all of
// this itself for the `cri` runtime; there the kubelet only writes the conflist.

import { cniCacheDir, loopbackNetwork, podNetworkConflist, type PodNetworkOptions } from './conflist.js';
import {
  CniNetwork,
  type CniNetworkConfigList,
  type CniOptions,
  type CniPortMapping,
  type CniResult,
  type CniRuntimeConf,
  resultPodIPs,
} from './cni.js';
import type { CommandRunner } from './host-command.js';
import { createNetns, deleteNetns, netnsPath, podNetnsName } from './netns.js';

/** Options of a node's `PodNetwork`. */
export interface PodNetworkConfig extends PodNetworkOptions {
  /** Plugin directories (CNI_PATH; default `/usr/lib/cni`). */
  binDirs?: string[];
  /** The node's own network namespace (tests' "nodes"); the host's when absent. */
  hostNetns?: string;
  /** Prefix of the sandboxes' namespace names (default `kts-pod-`). */
  netnsPrefix?: string;
  /** Command runner. */
  run?: CommandRunner;
}

/** Which pod a sandbox belongs to (passed to plugins as CNI_ARGS, as containerd does). */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** A sandbox attached to the pod network. */
export interface PodAttachment {
  /** The sandbox's named network namespace. */
  netnsName: string;
  /** Its path (CNI_NETNS). */
  netnsPath: string;
  /** The pod's addresses (status.podIPs), primary first. */
  ips: string[];
  /** The pod network's ADD result. */
  result: CniResult;
}

/** One node's pod network for runtimes that call CNI themselves. */
export class PodNetwork {
  /** The node's conflist (what containerd would read). */
  readonly conflist: CniNetworkConfigList;
  private readonly network: CniNetwork;
  private readonly loopback: CniNetwork;

  constructor(private readonly config: PodNetworkConfig) {
    this.conflist = podNetworkConflist(config);
    const cniOpts: CniOptions = { cacheDir: cniCacheDir(config.dataDir) };
    if (config.binDirs !== undefined) cniOpts.binDirs = config.binDirs;
    if (config.hostNetns !== undefined) cniOpts.hostNetns = config.hostNetns;
    if (config.run !== undefined) cniOpts.run = config.run;
    this.network = new CniNetwork(this.conflist, cniOpts);
    this.loopback = new CniNetwork(loopbackNetwork(), cniOpts);
  }

  /** The named network namespace of a sandbox. */
  netnsName(sandboxId: string): string {
    return podNetnsName(sandboxId, this.config.netnsPrefix);
  }

  /** The runtime conf of a sandbox's pod interface. */
  runtimeConf(sandboxId: string, pod?: PodRef, portMappings?: CniPortMapping[]): CniRuntimeConf {
    const rt: CniRuntimeConf = {
      containerId: sandboxId,
      netns: netnsPath(this.netnsName(sandboxId)),
      ifName: 'eth0',
    };
    if (pod !== undefined) {
      rt.args = {
        K8S_POD_NAMESPACE: pod.namespace,
        K8S_POD_NAME: pod.name,
        K8S_POD_INFRA_CONTAINER_ID: sandboxId,
        K8S_POD_UID: pod.uid,
      };
    }
    if (portMappings !== undefined && portMappings.length > 0) rt.capabilityArgs = { portMappings };
    return rt;
  }

  /**
   * Creates the sandbox's namespace and attaches it (loopback, then eth0 with its
   * hostPorts). Any failure undoes what was done, so a failed attach leaves nothing.
   */
  async attach(sandboxId: string, pod?: PodRef, portMappings?: CniPortMapping[]): Promise<PodAttachment> {
    const name = this.netnsName(sandboxId);
    const path = await createNetns(name, { run: this.config.run });
    const rt = this.runtimeConf(sandboxId, pod, portMappings);
    try {
      await this.loopback.add({ ...rt, ifName: 'lo' });
      const result = await this.network.add(rt);
      return { netnsName: name, netnsPath: path, ips: resultPodIPs(result), result };
    } catch (e) {
      await this.detach(sandboxId).catch(() => {});
      throw e;
    }
  }

  /** Detaches the sandbox (DEL of both networks) and deletes its namespace. Idempotent. */
  async detach(sandboxId: string): Promise<void> {
    const rt = this.runtimeConf(sandboxId);
    let first: unknown;
    await this.network.del(rt).catch((e: unknown) => {
      first ??= e;
    });
    await this.loopback.del({ ...rt, ifName: 'lo' }).catch((e: unknown) => {
      first ??= e;
    });
    // The namespace goes only once the plugins had their chance to clean up inside it.
    await deleteNetns(this.netnsName(sandboxId), this.config.run);
    if (first !== undefined) throw first;
  }

  /** Runs CHECK for the sandbox's pod interface. */
  check(sandboxId: string): Promise<void> {
    return this.network.check(this.runtimeConf(sandboxId));
  }
}
