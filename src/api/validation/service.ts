// Validation of core/v1 Services (upstream ValidateService / ValidateServiceUpdate): ports
// (required unless headless or ExternalName, named when several, unique names and
// protocol/port pairs), type and session affinity enums, traffic policies, ExternalName
// rules, and the primary cluster IP that may not change once set. Node port ranges and IP
// allocation are the service registry's business (they need the allocator), not this file's.
import type { FieldError } from '../../machinery/status-error.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
  validateLabels,
} from '../../machinery/validation/names.js';
import type { Service, ServicePort, ServiceSpec } from '../generated/types/core-v1.js';
import { SUPPORTED_PORT_PROTOCOLS } from './container.js';
import { duplicate, forbidden, invalidEach, invalidValue, listOf, notSupported, required } from './field.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function isHeadless(spec: Partial<ServiceSpec>): boolean {
  return spec.clusterIP === 'None';
}

function validateServicePort(
  sp: ServicePort,
  requireName: boolean,
  names: Set<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const name = sp.name ?? '';
  if (requireName && name === '') {
    errs.push(required(`${path}.name`));
  } else if (name !== '') {
    errs.push(...invalidEach(`${path}.name`, name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  errs.push(...invalidEach(`${path}.port`, sp.port ?? 0, isValidPortNum(sp.port ?? 0)));
  const proto = sp.protocol ?? '';
  if (proto === '') errs.push(required(`${path}.protocol`));
  else if (!(SUPPORTED_PORT_PROTOCOLS as readonly string[]).includes(proto)) {
    errs.push(notSupported(`${path}.protocol`, proto, SUPPORTED_PORT_PROTOCOLS));
  }
  const tp = sp.targetPort;
  if (typeof tp === 'number') errs.push(...invalidEach(`${path}.targetPort`, tp, isValidPortNum(tp)));
  else if (typeof tp === 'string') errs.push(...invalidEach(`${path}.targetPort`, tp, isValidPortName(tp)));
  if (sp.appProtocol != null)
    errs.push(...invalidEach(`${path}.appProtocol`, sp.appProtocol, isQualifiedName(sp.appProtocol)));
  return errs;
}

/** ValidateService (create). */
export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  const spec: Partial<ServiceSpec> = svc.spec ?? {};
  const type = spec.type ?? '';
  const ports = listOf(spec.ports);
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));
  const clusterIPs = listOf(spec.clusterIPs);
  if (type === 'LoadBalancer' && headless) {
    errs.push(
      invalidValue(
        'spec.clusterIPs[0]',
        clusterIPs[0] ?? 'None',
        "may not be set to 'None' for LoadBalancer services",
      ),
    );
  } else if (type === 'NodePort' && headless) {
    errs.push(
      invalidValue(
        'spec.clusterIPs[0]',
        clusterIPs[0] ?? 'None',
        "may not be set to 'None' for NodePort services",
      ),
    );
  } else if (type === 'ExternalName') {
    if (clusterIPs.length > 0)
      errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (listOf(spec.ipFamilies).length > 0)
      errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy != null)
      errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (cname !== '') errs.push(...invalidEach('spec.externalName', cname, isDNS1123Subdomain(cname)));
    else errs.push(required('spec.externalName'));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => {
    errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`));
  });
  if (spec.selector != null) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinity = spec.sessionAffinity ?? '';
  if (affinity === '') errs.push(required('spec.sessionAffinity'));
  else if (affinity !== 'ClientIP' && affinity !== 'None') {
    errs.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  }
  if (affinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (t == null) errs.push(required('spec.sessionAffinityConfig.clientIP.timeoutSeconds'));
    else if (t <= 0 || t > 86400) {
      errs.push(
        invalidValue(
          'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
          t,
          'must be greater than 0 and less than 86400',
        ),
      );
    }
  } else if (affinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  if (clusterIPs.length > 0 && spec.clusterIP !== clusterIPs[0]) {
    errs.push(invalidValue('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  }
  if (type === '') errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if ((p.nodePort ?? 0) !== 0)
        errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if ((p.nodePort ?? 0) === 0) return;
    const key = `${p.protocol ?? ''}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const pairs = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol ?? ''}/${p.port}`;
    if (pairs.has(key))
      errs.push(duplicate(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol ?? '' }));
    pairs.add(key);
  });
  errs.push(...validateTrafficPolicies(spec, type));
  return errs;
}

function validateTrafficPolicies(spec: Partial<ServiceSpec>, type: string): FieldError[] {
  const errs: FieldError[] = [];
  const external =
    type === 'LoadBalancer' ||
    type === 'NodePort' ||
    (type === 'ClusterIP' && listOf(spec.externalIPs).length > 0);
  const etp = spec.externalTrafficPolicy ?? '';
  if (!external) {
    if (etp !== '') {
      errs.push(
        invalidValue('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'),
      );
    }
  } else if (etp === '') {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (etp !== 'Cluster' && etp !== 'Local') {
    errs.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  }
  const itp = spec.internalTrafficPolicy;
  if (itp == null) {
    if (type === 'ClusterIP' || type === 'NodePort' || type === 'LoadBalancer') {
      errs.push(required('spec.internalTrafficPolicy'));
    }
  } else if (itp !== 'Cluster' && itp !== 'Local') {
    errs.push(notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  }
  return errs;
}

// Upstream's validateUpgradeDowngradeClusterIPs: the cluster IPs of a Service that keeps one
// may grow or shrink (dual-stack), but the primary may not change. The singular clusterIP
// has no rule of its own: the registry has already made the plural follow it.
function validateUpgradeDowngradeClusterIPs(
  ns: Partial<ServiceSpec>,
  os: Partial<ServiceSpec>,
): FieldError[] {
  const errs: FieldError[] = [];
  if (ns.type === 'ExternalName' || os.type === 'ExternalName') return errs;
  const nips = listOf(ns.clusterIPs);
  const oips = listOf(os.clusterIPs);
  const headless = (ips: readonly string[]) => ips.length === 1 && ips[0] === 'None';
  if (headless(nips) && headless(oips)) return errs;
  const changed = () => invalidValue('spec.clusterIPs[0]', nips, 'may not change once set');
  if (oips.length === nips.length) {
    oips.forEach((ip, i) => {
      if (ip !== nips[i]) errs.push(invalidValue(`spec.clusterIPs[${i}]`, nips, 'may not change once set'));
    });
  } else if (oips.length > nips.length) {
    if (nips.length === 0)
      errs.push(invalidValue('spec.clusterIPs[0]', nips, 'primary clusterIP can not be unset'));
    if (oips.length > 0 && nips.length > 0 && nips[0] !== oips[0]) errs.push(changed());
    if (nips.length === 1 && ns.ipFamilyPolicy !== 'SingleStack') {
      errs.push(
        invalidValue(
          'spec.ipFamilyPolicy',
          ns.ipFamilyPolicy ?? null,
          "must be set to 'SingleStack' when releasing the secondary clusterIP",
        ),
      );
    }
  } else if (oips.length > 0 && nips[0] !== oips[0]) {
    errs.push(changed());
  }
  return errs;
}

/** ValidateServiceUpdate: the primary cluster IP is fixed unless ExternalName is involved. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  const ns: Partial<ServiceSpec> = svc.spec ?? {};
  const os: Partial<ServiceSpec> = old.spec ?? {};
  errs.push(...validateUpgradeDowngradeClusterIPs(ns, os));
  errs.push(...validateService(svc).filter((e) => !e.field.startsWith('metadata.')));
  return errs;
}
