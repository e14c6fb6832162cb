// The API server's proxy of the pod connect subresources to kubelets. Contract: `pods/log`
// is a streamed GET of the kubelet's `/containerLogs/…` (`handlePodLog`); `pods/exec`,
// `pods/attach` and `pods/portforward` are HTTP/1.1 upgrades forwarded to the kubelet with
// the raw sockets spliced (`handleUpgrade`, wired to the server's `upgrade` event). The pod's
// kubelet is found through the pod's node (InternalIP and `daemonEndpoints` port); the API
// server authenticates to it with a client certificate from the cluster CA
// (`KubeletConnector`). The `proxy` subresource of nodes, pods and services forwards any
// method to the kubelet, the pod's IP or one ready endpoint of the service
// (`handleResourceProxy`; targets resolved in proxy-location.ts as upstream's registries do).

export {
  chooseContainer,
  DEFAULT_KUBELET_PORT,
  type KubeletAddress,
  KubeletConnector,
  kubeletAddress,
  type PodTarget,
  resolvePodTarget,
} from './kubelet-location.js';
export {
  isProxyableIP,
  nodeProxyLocation,
  podProxyLocation,
  type ProxyLocation,
  serviceProxyLocation,
  splitSchemeNamePort,
} from './proxy-location.js';
export {
  forwardHeaders,
  handleResourceProxy,
  PROXY_RESOURCES,
  proxySubpath,
  resolveProxyLocation,
} from './resource-proxy.js';
export { handlePodLog, kubeletErrorStatus, kubeletLogQuery } from './pod-log.js';
export {
  handleUpgrade,
  kubeletStreamQuery,
  UPGRADE_SUBRESOURCES,
  writeStatusToSocket,
} from './upgrade-proxy.js';
