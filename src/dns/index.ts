// Cluster DNS: answers the cluster zone (cluster.local by default) from an in-memory model
// of Services, EndpointSlices and Pods with CoreDNS `kubernetes` plugin semantics, and
// forwards every other name to the host's resolvers through a small cache. The model is fed
// by whoever watches the API; `startDNSServer` serves it over UDP and TCP.

export { AnswerCache, buildTemplate, renderTemplate } from './answer-cache.js';
export {
  Forwarder,
  type ForwarderOptions,
  hostUpstreams,
  isLoopback,
  parseResolvConf,
  parseUpstream,
  type Upstream,
} from './forwarder.js';
export { QueryHandler, type QueryHandlerOptions } from './handler.js';
export { addressFromReverse, canonicalIP, reverseName } from './ip.js';
export {
  ClusterDNSModel,
  type DNSPort,
  type EndpointEntry,
  SERVICE_NAME_LABEL,
  type ServiceEntry,
  type SliceEntry,
} from './model.js';
export {
  ClusterZone,
  type ClusterZoneOptions,
  DNS_SCHEMA_VERSION,
  type PodMode,
  type ZoneAnswer,
} from './records.js';
export { type DNSServer, type DNSServerOptions, startDNSServer } from './server.js';
export {
  type DNSMessage,
  decodeMessage,
  encodeMessage,
  type Question,
  Rcode,
  type RecordData,
  type ResourceRecord,
  RRType,
} from './wire.js';
