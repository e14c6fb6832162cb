// The pod network. Contract: every pod that does not use the host's network gets an
// address of its node's podCIDR (Node.spec.podCIDR, inside the cluster CIDR 10.42.0.0/16)
// from the standard CNI plugins (bridge + host-local + portmap, and loopback), invoked per
// CNI spec 1.0.0; pods on different nodes reach each other by pod IP without NAT through
// host-gw routes; the cluster and service CIDRs are routed whole to the node bridge before
// any pod starts, so no 10.42/10.43 packet ever leaves by the default gateway; teardown
// removes everything kts made, by name.
//
// How the kubelet uses it (node start, then per pod sandbox):
//
//   1. On start, once the Node has its podCIDR:
//        await setupNodeNetwork({ podCIDR })            // bridge kts0, routes, masquerade
//        const routes = new RouteSync({ nodeName })     // host-gw routes to other nodes
//        nodeInformer handlers → routes.sync(nodeLister.list())
//      (the kubelet does this once its pod network is up; its informer watches every Node,
//      so it needs a credential that may, see KubeletNetworkOptions.routesClient). The
//      routes outlive the kubelet like the bridge does; `routes.stop()` or teardown
//      removes them when the node leaves.
//   2a. `cri` runtime: write the conflist into the private containerd's CNI conf_dir
//       (`containerd-daemon.ts`: bin_dir=/usr/lib/cni, conf_dir=<root>/cni/net.d) before
//       the first RunPodSandbox:
//        writeConflist(daemon.cniConfDir, podNetworkConflist({ podCIDR, dataDir }))
//       containerd then runs ADD/DEL itself (and its own loopback) for each sandbox, and
//       passes hostPorts as the portMappings capability.
//   2b. `process` runtime: the kubelet calls CNI itself, one named netns per sandbox:
//        const net = new PodNetwork({ podCIDR, dataDir })
//        const { netnsPath, ips } = await net.attach(sandboxId, pod, portMappings)
//        … start the pod's processes inside netnsPath (`ip netns exec` / setns) …
//        await net.detach(sandboxId)   // CNI DEL (eth0, lo), then the netns is deleted
//      hostNetwork pods skip both: they run in the node's namespace and report its IP.
//   3. `kts` uninstall / `--cleanup`: teardownPodNetwork({ dataDir, conflist, confDirs })
//      DELs every attachment still known, then removes kts routes, KTSNET- chains, CNI
//      rules tagged with the network name, the bridge and the IPAM/cache directories.

export {
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_SERVICE_CIDR,
  canonicalCidr,
  cidrContains,
  cidrsOverlap,
  formatIpv4,
  gatewayAddress,
  isIpv4,
  nthAddress,
  parseCidr,
  parseIpv4,
  type Ipv4Cidr,
} from './cidr.js';
export {
  CNI_SPEC_VERSION,
  CniError,
  CniErrorCode,
  CniNetwork,
  CniPluginRunner,
  DEFAULT_CNI_BIN_DIR,
  cachedAttachments,
  findPlugin,
  parseCniError,
  parseCniResult,
  pluginStdinConfig,
  resultPodIPs,
  type CniBandwidth,
  type CniCapabilityArgs,
  type CniCommand,
  type CniDns,
  type CniInterface,
  type CniIpConfig,
  type CniNetworkConfigList,
  type CniOptions,
  type CniPluginConfig,
  type CniPortMapping,
  type CniResult,
  type CniRoute,
  type CniRuntimeConf,
  type CniVersionResult,
} from './cni.js';
export {
  CONFLIST_FILE_NAME,
  DEFAULT_BRIDGE_NAME,
  LOOPBACK_NETWORK_NAME,
  POD_NETWORK_NAME,
  cniCacheDir,
  ipamDataDir,
  loopbackNetwork,
  podNetworkConflist,
  removeConflist,
  renderConflist,
  writeConflist,
  type PodNetworkOptions,
} from './conflist.js';
export { HostCommandError, execCommand, type CommandResult, type CommandRunner } from './host-command.js';
export { KTSNET_CHAIN_PREFIX, KTSNET_FORWARD_CHAIN, KTSNET_MASQ_CHAIN } from './iptables.js';
export {
  NETNS_DIR,
  POD_NETNS_PREFIX,
  createNetns,
  createVeth,
  deleteLink,
  deleteNetns,
  linkExists,
  listLinks,
  listNetns,
  netnsExists,
  netnsPath,
  podNetnsName,
  routeGet,
  type LinkInfo,
  type RouteLookup,
  type VethSpec,
} from './netns.js';
export {
  assignBridgeAddress,
  KTS_ROUTE_PROTOCOL,
  prepareNodeBridge,
  RouteSync,
  desiredHostGwRoutes,
  diffRoutes,
  listHostGwRoutes,
  nodeInternalIP,
  setupNodeNetwork,
  type HostGwRoute,
  type NodeBridgeOptions,
  type NodeNetworkOptions,
  type NodeNetworkState,
  type RouteDiff,
  type RouteSyncOptions,
  type RouteSyncResult,
} from './node-routes.js';
export { PodNetwork, type PodAttachment, type PodNetworkConfig, type PodRef } from './pod-network.js';
export {
  listIpamAllocations,
  teardownPodNetwork,
  type IpamAllocation,
  type TeardownOptions,
  type TeardownReport,
} from './teardown.js';
