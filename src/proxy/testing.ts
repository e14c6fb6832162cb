// Builders of Services and EndpointSlices for proxy tests and the benchmark: the few fields
// a data plane reads, with upstream defaults filled in, so a case states only what matters.

import type { Service, ServicePort } from '../api/generated/types/core-v1.js';
import type { Endpoint, EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { SERVICE_NAME_LABEL } from './model.js';

/** Fields a test may set on a Service. */
export interface ServiceSpecInput {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  clusterIP?: string;
  ports?: ServicePort[];
  externalIPs?: string[];
  externalName?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  sessionAffinity?: 'None' | 'ClientIP';
  affinityTimeoutSeconds?: number;
  loadBalancerIngressIPs?: string[];
  loadBalancerSourceRanges?: string[];
}

/** A Service in `namespace` named `name`. */
export function makeService(namespace: string, name: string, s: ServiceSpecInput): Service {
  const svc: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: {
      type: s.type ?? 'ClusterIP',
      clusterIP: s.clusterIP,
      ports: s.ports ?? [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      externalIPs: s.externalIPs,
      externalName: s.externalName,
      externalTrafficPolicy: s.externalTrafficPolicy,
      internalTrafficPolicy: s.internalTrafficPolicy ?? 'Cluster',
      sessionAffinity: s.sessionAffinity ?? 'None',
      sessionAffinityConfig:
        s.affinityTimeoutSeconds === undefined
          ? undefined
          : { clientIP: { timeoutSeconds: s.affinityTimeoutSeconds } },
      loadBalancerSourceRanges: s.loadBalancerSourceRanges,
    },
  };
  if (s.loadBalancerIngressIPs !== undefined) {
    svc.status = { loadBalancer: { ingress: s.loadBalancerIngressIPs.map((ip) => ({ ip, ipMode: 'VIP' })) } };
  }
  return svc;
}

/** One endpoint of a slice: an IP plus optional node and conditions. */
export interface EndpointInput {
  ip: string;
  nodeName?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** An IPv4 EndpointSlice of Service `service` with one port. */
export function makeEndpointSlice(
  namespace: string,
  service: string,
  endpoints: Array<EndpointInput | string>,
  port: { name?: string; port: number; protocol?: string } = { name: 'http', port: 8080 },
  sliceName = `${service}-abcde`,
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name: sliceName, labels: { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    ports: [{ name: port.name, port: port.port, protocol: port.protocol ?? 'TCP' }],
    endpoints: endpoints.map((e): Endpoint => {
      const x = typeof e === 'string' ? { ip: e } : e;
      return {
        addresses: [x.ip],
        nodeName: x.nodeName,
        conditions: { ready: x.ready ?? true, serving: x.serving, terminating: x.terminating },
      };
    }),
  };
}
