// The kubelet's HTTPS server. Contract: `startKubeletServer` serves `/healthz`, container logs
// (`/containerLogs/<ns>/<pod>/<container>` with follow, tailLines, sinceSeconds,
// sinceTime, timestamps, previous, limitBytes), exec/attach over WebSocket
// (`v5.channel.k8s.io`, `v4.channel.k8s.io`) or plain SPDY/3.1 (v5 … v2), and port-forward
// (`portforward.k8s.io`) over SPDY/3.1, plain or tunneled in WebSocket binary messages, for
// the pods the kubelet runs, reading from the CRI-shaped runtime; clients authenticate with
// certificates from the cluster CA.

export { KubeletServer, type KubeletServerOptions, startKubeletServer } from './kubelet-server.js';
export {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  type PortForwardOptions,
  servePortForward,
} from './port-forward.js';
export {
  Channel,
  exitStatus,
  REMOTE_COMMAND_PROTOCOLS,
  serveRemoteCommand,
  type StreamStatus,
} from './remote-command.js';
export { SPDY_REMOTE_COMMAND_PROTOCOLS, serveRemoteCommandSpdy } from './remote-command-spdy.js';
export { ensureKubeletServingCert } from './serving-cert.js';
export {
  acceptSpdyUpgrade,
  SpdyConnection,
  SpdyStream,
  type SpdyTransport,
  socketTransport,
  webSocketTransport,
} from './spdy-connection.js';
export { acceptWebSocket, encodeServerFrame, WebSocket } from './websocket.js';
