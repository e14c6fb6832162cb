// The kubelet's HTTPS server. Contract: `startKubeletServer` serves `/healthz`, container
// logs (`/containerLogs/<ns>/<pod>/<container>` with follow, tailLines, sinceSeconds,
// sinceTime, timestamps, previous, limitBytes) and exec/attach over WebSocket
// (`v5.channel.k8s.io`, `v4.channel.k8s.io`) for the pods the kubelet runs, reading from the
// CRI-shaped runtime; clients authenticate with certificates from the cluster CA.

export { KubeletServer, type KubeletServerOptions, startKubeletServer } from './kubelet-server.js';
export {
  Channel,
  exitStatus,
  REMOTE_COMMAND_PROTOCOLS,
  serveRemoteCommand,
  type StreamStatus,
} from './remote-command.js';
export { ensureKubeletServingCert } from './serving-cert.js';
export { acceptWebSocket, encodeServerFrame, WebSocket } from './websocket.js';
