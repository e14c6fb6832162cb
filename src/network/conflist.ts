// The node's CNI network: one configuration list, the same for both runtimes. containerd
// (the `cri` runtime) reads it from its conf_dir and runs it itself; the `process` runtime
// hands it to `CniNetwork`. Pods attach to the node bridge (`kts0`, the pods' gateway);
// host-local hands out addresses of the node's podCIDR and keeps its allocations under the
// kts data dir (so teardown knows exactly which files are kts's); portmap serves hostPorts.
//
// Masquerading is deliberately not the bridge plugin's: its `ipMasq` masquerades
// everything leaving the *node's* subnet, which would NAT pod-to-pod traffic between nodes.
// The node installs one rule for the whole cluster CIDR instead (node-routes.ts), so only
// traffic leaving the cluster is masqueraded. `bridgeIpMasq` restores the plugin's
// behaviour for a single-node setup that wants it.
//
// loopback is not in the list: its interface is always `lo`, not the pod's `eth0`, so
// runtimes attach it as a network of its own (containerd does so by itself; the process
// runtime uses `loopbackNetwork()`).

import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CLUSTER_CIDR, canonicalCidr, cidrContains, gatewayAddress, parseCidr } from './cidr.js';
import { CNI_SPEC_VERSION, type CniNetworkConfigList, type CniPluginConfig } from './cni.js';

/** The name of kts's pod network (CNI `name`; also in the comments of plugin iptables rules). */
export const POD_NETWORK_NAME = 'kts';

/** The node bridge every pod's veth is attached to. */
export const DEFAULT_BRIDGE_NAME = 'kts0';

/** The conflist's file name in a CNI conf_dir (containerd loads the first file by name). */
export const CONFLIST_FILE_NAME = '10-kts.conflist';

/** The loopback network's name (the one containerd uses for its built-in loopback). */
export const LOOPBACK_NETWORK_NAME = 'cni-loopback';

/** What the node's pod network depends on. */
export interface PodNetworkOptions {
  /** The node's `spec.podCIDR`, e.g. `10.42.1.0/24`. */
  podCIDR: string;
  /** The kts data dir; host-local keeps its allocations in `<dataDir>/cni/networks`. */
  dataDir: string;
  /** The whole cluster's pod range (default `10.42.0.0/16`); podCIDR must lie inside it. */
  clusterCIDR?: string;
  /** Bridge name (default `kts0`). */
  bridgeName?: string;
  /** Network name (default `kts`). */
  networkName?: string;
  /** MTU of the bridge and the pods' interfaces (default: the kernel's, 1500). */
  mtu?: number;
  /** Let the bridge plugin masquerade traffic leaving the node's podCIDR (default false). */
  bridgeIpMasq?: boolean;
  /** Add the bandwidth plugin (capability `bandwidth`) for pod traffic shaping. */
  bandwidth?: boolean;
}

/** Directory where host-local keeps its allocations: `<dataDir>/cni/networks`. */
export function ipamDataDir(dataDir: string): string {
  return join(dataDir, 'cni', 'networks');
}

/** Directory where kts caches CNI ADD results for the process runtime: `<dataDir>/cni/results`. */
export function cniCacheDir(dataDir: string): string {
  return join(dataDir, 'cni', 'results');
}

/** Checks the options; throws with a message a person can act on. */
export function validatePodNetworkOptions(opts: PodNetworkOptions): void {
  const pod = parseCidr(opts.podCIDR);
  const cluster = opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR;
  if (pod.prefix > 30) throw new Error(`podCIDR ${opts.podCIDR} is too small for pods (prefix > 30)`);
  if (!cidrContains(cluster, gatewayAddress(opts.podCIDR)) || parseCidr(cluster).prefix > pod.prefix) {
    throw new Error(`podCIDR ${opts.podCIDR} is not inside the cluster CIDR ${cluster}`);
  }
  const bridge = opts.bridgeName ?? DEFAULT_BRIDGE_NAME;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge))
    throw new Error(`invalid bridge name ${JSON.stringify(bridge)}`);
}

/** The node's pod network list: bridge + host-local, then portmap (and bandwidth). */
export function podNetworkConflist(opts: PodNetworkOptions): CniNetworkConfigList {
  validatePodNetworkOptions(opts);
  const subnet = canonicalCidr(opts.podCIDR);
  const bridge: CniPluginConfig = {
    type: 'bridge',
    bridge: opts.bridgeName ?? DEFAULT_BRIDGE_NAME,
    isGateway: true,
    ipMasq: opts.bridgeIpMasq === true,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet, gateway: gatewayAddress(subnet) }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: ipamDataDir(opts.dataDir),
    },
  };
  if (opts.mtu !== undefined) bridge.mtu = opts.mtu;
  const plugins: CniPluginConfig[] = [
    bridge,
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
  ];
  if (opts.bandwidth === true) plugins.push({ type: 'bandwidth', capabilities: { bandwidth: true } });
  return { cniVersion: CNI_SPEC_VERSION, name: opts.networkName ?? POD_NETWORK_NAME, plugins };
}

/** The loopback network every sandbox gets besides the pod network (interface `lo`). */
export function loopbackNetwork(): CniNetworkConfigList {
  return { cniVersion: CNI_SPEC_VERSION, name: LOOPBACK_NETWORK_NAME, plugins: [{ type: 'loopback' }] };
}

/** The conflist as the file containerd reads. */
export function renderConflist(list: CniNetworkConfigList): string {
  return `${JSON.stringify(list, null, 2)}\n`;
}

/**
 * Writes the conflist into a CNI conf_dir (atomically: containerd watches the directory
 * and must never read half a file). Other files there are left alone, but kts's own name
 * sorts first so containerd picks it.
 */
export function writeConflist(confDir: string, list: CniNetworkConfigList): string {
  mkdirSync(confDir, { recursive: true });
  const path = join(confDir, CONFLIST_FILE_NAME);
  const tmp = join(confDir, `.${CONFLIST_FILE_NAME}.tmp`);
  writeFileSync(tmp, renderConflist(list), { mode: 0o644 });
  renameSync(tmp, path);
  return path;
}

/** Removes kts's conflist from a conf_dir; returns whether it was there. */
export function removeConflist(confDir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(confDir);
  } catch {
    return false;
  }
  if (!names.includes(CONFLIST_FILE_NAME)) return false;
  rmSync(join(confDir, CONFLIST_FILE_NAME), { force: true });
  return true;
}
