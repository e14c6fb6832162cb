// Service networking: Services, Endpoints, EndpointSlices, Ingresses, IngressClasses,
// NetworkPolicies, ServiceCIDRs and IPAddresses.
import type { Endpoints, Service, ServicePort } from '../../api/generated/types/core-v1.js';
import type { EndpointSlice } from '../../api/generated/types/discovery-v1.js';
import type {
  IPAddress,
  Ingress,
  IngressClass,
  NetworkPolicy,
  ServiceCIDR,
} from '../../api/generated/types/networking-v1.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  age,
  arr,
  column,
  formatLabels,
  joinHostPort,
  listWithMore,
  nameOf,
  selectorCell,
  sortedUniqueJoin,
} from './format.js';
import type { ResourcePrinter } from './table.js';

// Sorted unique IPs, else hostnames, of load-balancer ingress points. The server prints
// wide, so upstream's 16-character clipping never applies here.
function loadBalancerCell(ingress: { ip?: string; hostname?: string }[] | undefined): string {
  const out: string[] = [];
  for (const i of arr(ingress)) {
    if (i.ip) out.push(i.ip);
    else if (i.hostname) out.push(i.hostname);
  }
  return sortedUniqueJoin(out);
}

function externalIPCell(svc: Service, type: string): string {
  const externalIPs = arr(svc.spec?.externalIPs);
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerCell(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb === '' ? [] : lb.split(',')), ...externalIPs].join(',');
      return lb === '' ? '<pending>' : lb;
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** `80/TCP,443:30443/TCP` (upstream's makePortString). */
export function servicePortsCell(ports: ServicePort[] | undefined): string {
  const list = arr(ports);
  if (list.length === 0) return '<none>';
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const p = list[i] as ServicePort;
    const protocol = p.protocol || 'TCP';
    if (i > 0) out += ',';
    out += p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
  }
  return out;
}

/** Services. */
export const SERVICES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', 'How the service is exposed.'),
    column('Cluster-IP', 'string', 'The virtual IP of the service.'),
    column('External-IP', 'string', 'Addresses the service is reachable at from outside.'),
    column('Port(s)', 'string', 'Ports of the service.'),
    AGE_COLUMN,
    column('Selector', 'string', 'The label selector of the backing pods.', { wide: true }),
  ],
  cells(obj, ctx) {
    const svc = obj as unknown as Service;
    const spec = svc.spec;
    // Defaulting always sets type and clusterIPs; fall back for objects written without them.
    const type = spec?.type || 'ClusterIP';
    const clusterIP = spec?.clusterIPs?.[0] || spec?.clusterIP || '<none>';
    return [
      nameOf(obj),
      type,
      clusterIP,
      externalIPCell(svc, type),
      servicePortsCell(spec?.ports),
      age(obj, ctx.nowMs),
      formatLabels(spec?.selector),
    ];
  },
};

/** `10.42.0.5:80,10.42.0.6:80 + 1 more...`, or `<none>` (upstream's formatEndpoints). */
export function endpointsCell(ep: Endpoints): string {
  const subsets = arr(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = arr(ss.addresses);
    const ports = arr(ss.ports);
    if (ports.length === 0) {
      // Headless services may have no ports.
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

/** Endpoints. */
export const ENDPOINTS: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', 'Ready addresses and ports.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), endpointsCell(obj as unknown as Endpoints), age(obj, ctx.nowMs)];
  },
};

function slicePortsCell(slice: EndpointSlice): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of arr(slice.ports)) {
    if (list.length < max) {
      list.push(typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*');
    } else if (list.length === max) more = true;
    count++;
  }
  return listWithMore(list, more, count, max);
}

function sliceEndpointsCell(slice: EndpointSlice): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ep of arr(slice.endpoints)) {
    for (const address of arr(ep.addresses)) {
      if (list.length < max) list.push(address);
      else if (list.length === max) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max);
}

/** EndpointSlices. */
export const ENDPOINT_SLICES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', 'The type of the addresses.'),
    column('Ports', 'string', 'Ports of the endpoints.'),
    column('Endpoints', 'string', 'Addresses of the endpoints.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const slice = obj as unknown as EndpointSlice;
    return [
      nameOf(obj),
      slice.addressType ?? '',
      slicePortsCell(slice),
      sliceEndpointsCell(slice),
      age(obj, ctx.nowMs),
    ];
  },
};

// upstream's formatHosts, including its quirk: the `+ N more` counts rules, not hosts.
function hostsCell(ing: Ingress): string {
  const rules = arr(ing.spec?.rules);
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const joined = list.join(',');
  return more ? `${joined} + ${rules.length - max} more...` : joined;
}

/** Ingresses. */
export const INGRESSES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Class', 'string', 'The IngressClass of the ingress.'),
    column('Hosts', 'string', 'Hosts the rules match.'),
    column('Address', 'string', 'Addresses of the load balancer.'),
    column('Ports', 'string', 'Ports the ingress serves.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const ing = obj as unknown as Ingress;
    return [
      nameOf(obj),
      ing.spec?.ingressClassName ?? '<none>',
      hostsCell(ing),
      loadBalancerCell(ing.status?.loadBalancer?.ingress),
      arr(ing.spec?.tls).length > 0 ? '80, 443' : '80',
      age(obj, ctx.nowMs),
    ];
  },
};

/** IngressClasses. */
export const INGRESS_CLASSES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'string', 'The controller that implements the class.'),
    column('Parameters', 'string', 'The resource holding parameters of the class.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const ic = obj as unknown as IngressClass;
    const p = ic.spec?.parameters;
    let parameters = '<none>';
    if (p) {
      parameters = p.kind ?? '';
      if (typeof p.apiGroup === 'string') parameters += `.${p.apiGroup}`;
      parameters += `/${p.name ?? ''}`;
    }
    return [nameOf(obj), ic.spec?.controller ?? '', parameters, age(obj, ctx.nowMs)];
  },
};

/** NetworkPolicies. */
export const NETWORK_POLICIES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Pod-Selector', 'string', 'The pods the policy applies to.'), AGE_COLUMN],
  cells(obj, ctx) {
    const np = obj as unknown as NetworkPolicy;
    // podSelector is required; an empty one selects every pod and prints `<none>`.
    return [nameOf(obj), selectorCell(np.spec?.podSelector ?? {}), age(obj, ctx.nowMs)];
  },
};

/** ServiceCIDRs. */
export const SERVICE_CIDRS: ResourcePrinter = {
  columns: [NAME_COLUMN, column('CIDRs', 'string', 'The service IP ranges.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), arr((obj as unknown as ServiceCIDR).spec?.cidrs).join(','), age(obj, ctx.nowMs)];
  },
};

/** IPAddresses (upstream defines no AGE column; its extra age cell is left out so cells match columns). */
export const IP_ADDRESSES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('ParentRef', 'string', 'The object the address is allocated to.')],
  cells(obj) {
    const ref = (obj as unknown as IPAddress).spec?.parentRef;
    let parent = '<none>';
    if (ref) {
      // Go's GroupResource.String(): `resource.group`, or `resource` for the core group.
      parent = (ref.group ? `${ref.resource}.${ref.group}` : (ref.resource ?? '')).toLowerCase();
      if (ref.namespace) parent += `/${ref.namespace}`;
      parent += `/${ref.name ?? ''}`;
    }
    return [nameOf(obj), parent];
  },
};
