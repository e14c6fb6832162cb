// Shared test fixtures of the cluster DNS: the model CoreDNS's own handler tests use (plus a
// StatefulSet-style service), zone-file formatting of records, and query packets.

import type { Service } from '../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../api/generated/types/discovery-v1.js';
import { ClusterDNSModel } from './model.js';
import { encodeMessage, Flag, type ParsedQuery, parseQuery, type ResourceRecord, WireError } from './wire.js';

/** The model clock of `fixtureModel` (the SOA serial is its seconds). */
export const NOW = 1_700_000_000_000;

function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { metadata: { namespace: ns, name }, spec };
}

function slice(ns: string, service: string, name: string, s: Omit<EndpointSlice, 'metadata'>): EndpointSlice {
  return { metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } }, ...s };
}

const http = [{ name: 'http', port: 80, protocol: 'TCP' }];

/** The fixture CoreDNS's own handler tests use, plus a StatefulSet-style service. */
export function fixtureModel(): ClusterDNSModel {
  const m = new ClusterDNSModel(() => NOW);
  m.setService(svc('testns', 'svc1', { clusterIP: '10.0.0.1', ports: http }));
  m.setService(svc('testns', 'svcempty', { clusterIP: '10.0.0.2', ports: http }));
  m.setService(svc('testns', 'svc6', { clusterIP: '1234:abcd::1', ports: http }));
  m.setService(svc('testns', 'svc-dual-stack', { clusterIPs: ['10.0.0.3', '10::3'], ports: http }));
  m.setService(svc('testns', 'hdls1', { clusterIP: 'None', ports: http }));
  m.setEndpointSlice(
    slice('testns', 'hdls1', 'hdls1-v4', {
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['172.0.0.2'], conditions: { ready: true } },
        { addresses: ['172.0.0.3'] },
        { addresses: ['172.0.0.4'], hostname: 'dup-name', conditions: { ready: true } },
        { addresses: ['172.0.0.5'], hostname: 'dup-name', conditions: { ready: true } },
        { addresses: ['172.0.0.9'], conditions: { ready: false } },
      ],
    }),
  );
  m.setEndpointSlice(
    slice('testns', 'hdls1', 'hdls1-v6', {
      addressType: 'IPv6',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['5678:abcd::1'] }, { addresses: ['5678:abcd::2'] }],
    }),
  );
  m.setService(svc('testns', 'hdlsprtls', { clusterIP: 'None' }));
  m.setEndpointSlice(
    slice('testns', 'hdlsprtls', 'hdlsprtls-1', {
      addressType: 'IPv4',
      endpoints: [{ addresses: ['172.0.0.20'] }],
    }),
  );
  m.setService(
    svc('testns', 'external', { type: 'ExternalName', externalName: 'ext.interwebs.test', ports: http }),
  );
  m.setService(
    svc('testns', 'external-to-service', {
      type: 'ExternalName',
      externalName: 'svc1.testns.svc.cluster.local.',
    }),
  );
  m.setService(svc('testns', 'pub', { clusterIP: 'None', publishNotReadyAddresses: true }));
  m.setEndpointSlice(
    slice('testns', 'pub', 'pub-1', {
      addressType: 'IPv4',
      endpoints: [{ addresses: ['172.0.1.1'], conditions: { ready: false } }],
    }),
  );
  m.setService(
    svc('kube-system', 'kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53 }] }),
  );
  m.setService(svc('apps', 'web', { clusterIP: 'None', ports: http }));
  m.setEndpointSlice(
    slice('apps', 'web', 'web-abc', {
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.42.0.10'], hostname: 'web-0', conditions: { ready: true } },
        { addresses: ['10.42.1.11'], hostname: 'web-1', conditions: { ready: true } },
      ],
    }),
  );
  return m;
}

/** One record in zone-file form, as CoreDNS's tests write them. */
export function fmt(rr: ResourceRecord): string {
  const d = rr.data;
  const head = `${rr.name}. ${rr.ttl} IN`;
  switch (d.kind) {
    case 'A':
    case 'AAAA':
      return `${head} ${d.kind} ${d.address}`;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return `${head} ${d.kind} ${d.target}.`;
    case 'SRV':
      return `${head} SRV ${d.priority} ${d.weight} ${d.port} ${d.target}.`;
    case 'TXT':
      return `${head} TXT ${d.texts.join(' ')}`;
    case 'SOA':
      return `${head} SOA ${d.mname}. ${d.rname}. ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    default:
      return `${head} TYPE${d.type}`;
  }
}

/** A client query packet and its parsed form. */
export function mkQuery(
  name: string,
  type: number,
  edns = false,
  id = 0x1234,
): { packet: Buffer; q: ParsedQuery } {
  const packet = encodeMessage({
    id,
    flags: Flag.RD,
    opcode: 0,
    rcode: 0,
    questions: [{ name, type, class: 1 }],
    answers: [],
    authority: [],
    additional: [],
    ...(edns && { edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, options: [] } }),
  });
  const q = parseQuery(packet);
  if (q instanceof WireError) throw q;
  return { packet, q };
}
