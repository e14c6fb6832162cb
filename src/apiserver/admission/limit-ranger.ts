// LimitRanger (upstream plugin/pkg/admission/limitranger): the mutating phase fills in a
// container's missing requests and limits from the namespace's LimitRanges (type Container,
// `defaultRequest` and `default`) and records what it set in the `kubernetes.io/limit-ranger`
// annotation; the validating phase enforces min, max and maxLimitRequestRatio per Container
// and per Pod, and min/max storage per PersistentVolumeClaim, with upstream's messages.
import type { Container, LimitRange, Pod, PersistentVolumeClaim } from '../../api/generated/types/core-v1.js';
import { Quantity, quantityFromJSON } from '../../machinery/quantity.js';
import type { StoreRegistry } from '../stores.js';
import { asPod, denied, isResource, listObjects, sortStrings } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

const ANNOTATION = 'kubernetes.io/limit-ranger';
const MAX_MILLI_VALUE = 9223372036854775807n / 1000n;

type ResourceList = Record<string, string>;

function q(v: unknown): Quantity | undefined {
  try {
    return quantityFromJSON(v);
  } catch {
    return undefined;
  }
}

function supports(req: AdmissionRequest): boolean {
  if (req.subresource !== '') return false;
  if (req.operation === 'DELETE' || req.operation === 'CONNECT') return false;
  const pod = isResource(req, '', 'pods');
  // Containers are immutable after create, so pod updates have nothing to default or check.
  if (pod && req.operation === 'UPDATE') return false;
  if (req.oldObject?.metadata?.deletionTimestamp !== undefined) return false;
  return pod || isResource(req, '', 'persistentvolumeclaims');
}

/** Requests, limits and the enforced bound at one precision (milli when nothing overflows). */
function values(
  req: Quantity | undefined,
  lim: Quantity | undefined,
  enforced: Quantity,
): [bigint, bigint, bigint] {
  const zero = Quantity.of(0);
  const r = req ?? zero;
  const l = lim ?? zero;
  const v: [bigint, bigint, bigint] = [r.scaledValueBig(0), l.scaledValueBig(0), enforced.scaledValueBig(0)];
  if (v[0] <= MAX_MILLI_VALUE && v[1] <= MAX_MILLI_VALUE && v[2] <= MAX_MILLI_VALUE) {
    return [r.scaledValueBig(-3), l.scaledValueBig(-3), enforced.scaledValueBig(-3)];
  }
  return v;
}

function minConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const rq = name in request ? q(request[name]) : undefined;
  const lq = name in limit ? q(limit[name]) : undefined;
  const [r, l, e] = values(rq, lq, enforced);
  if (rq === undefined) return `minimum ${name} usage per ${type} is ${enforced}.  No request is specified`;
  if (r < e) return `minimum ${name} usage per ${type} is ${enforced}, but request is ${rq}`;
  if (lq !== undefined && l < e)
    return `minimum ${name} usage per ${type} is ${enforced}, but limit is ${lq}`;
  return undefined;
}

function maxConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const rq = name in request ? q(request[name]) : undefined;
  const lq = name in limit ? q(limit[name]) : undefined;
  const [r, l, e] = values(rq, lq, enforced);
  if (lq === undefined) return `maximum ${name} usage per ${type} is ${enforced}.  No limit is specified`;
  if (l > e) return `maximum ${name} usage per ${type} is ${enforced}, but limit is ${lq}`;
  if (rq !== undefined && r > e)
    return `maximum ${name} usage per ${type} is ${enforced}, but request is ${rq}`;
  return undefined;
}

function maxRequestConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
): string | undefined {
  const rq = name in request ? q(request[name]) : undefined;
  const [r, , e] = values(rq, undefined, enforced);
  if (rq === undefined) return `maximum ${name} usage per ${type} is ${enforced}.  No request is specified`;
  if (r > e) return `maximum ${name} usage per ${type} is ${enforced}, but request is ${rq}`;
  return undefined;
}

function ratioConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const rq = name in request ? q(request[name]) : undefined;
  const lq = name in limit ? q(limit[name]) : undefined;
  const [r, l] = values(rq, lq, enforced);
  if (rq === undefined || r === 0n)
    return `${name} max limit to request ratio per ${type} is ${enforced}, but no request is specified or request is 0`;
  if (lq === undefined || l === 0n)
    return `${name} max limit to request ratio per ${type} is ${enforced}, but no limit is specified or limit is 0`;
  const observed = Number(l) / Number(r);
  let ratio = observed;
  let max = Number(enforced.scaledValueBig(0));
  if (enforced.scaledValueBig(0) <= MAX_MILLI_VALUE) {
    ratio = observed * 1000;
    max = Number(enforced.scaledValueBig(-3));
  }
  if (ratio > max)
    return `${name} max limit to request ratio per ${type} is ${enforced}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

function mergeContainer(
  c: Container,
  defaults: { requests: ResourceList; limits: ResourceList },
  prefix: string,
  notes: string[],
): void {
  const res = c.resources ?? {};
  const limits: ResourceList = { ...(res.limits ?? {}) };
  const requests: ResourceList = { ...(res.requests ?? {}) };
  const setLimits: string[] = [];
  const setRequests: string[] = [];
  for (const [k, v] of Object.entries(defaults.limits)) {
    if (!(k in limits)) {
      limits[k] = v;
      setLimits.push(k);
    }
  }
  for (const [k, v] of Object.entries(defaults.requests)) {
    if (!(k in requests)) {
      requests[k] = v;
      setRequests.push(k);
    }
  }
  if (setRequests.length > 0)
    notes.push(`${sortStrings(setRequests).join(', ')} request for ${prefix} ${c.name}`);
  if (setLimits.length > 0) notes.push(`${sortStrings(setLimits).join(', ')} limit for ${prefix} ${c.name}`);
  if (setLimits.length > 0 || setRequests.length > 0) {
    c.resources = { ...res };
    if (Object.keys(limits).length > 0) c.resources.limits = limits;
    if (Object.keys(requests).length > 0) c.resources.requests = requests;
  }
}

/** Applies a LimitRange's Container defaults to a pod (upstream PodMutateLimitFunc). */
export function podMutateLimits(lr: LimitRange, pod: Pod): void {
  const defaults = { requests: {} as ResourceList, limits: {} as ResourceList };
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    Object.assign(defaults.requests, item.defaultRequest ?? {});
    Object.assign(defaults.limits, item.default ?? {});
  }
  const notes: string[] = [];
  for (const c of pod.spec?.containers ?? []) mergeContainer(c, defaults, 'container', notes);
  for (const c of pod.spec?.initContainers ?? []) mergeContainer(c, defaults, 'init container', notes);
  if (notes.length > 0) {
    const m = pod.metadata ?? {};
    pod.metadata = m;
    m.annotations = { ...(m.annotations ?? {}), [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
  }
}

function addTo(total: Map<string, Quantity>, list: ResourceList | undefined): void {
  for (const [k, v] of Object.entries(list ?? {})) {
    const x = q(v);
    if (x) total.set(k, (total.get(k) ?? Quantity.of(0)).add(x));
  }
}

function toList(m: Map<string, Quantity>): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of m) out[k] = v.toString();
  return out;
}

/** Pod-level requests or limits: the sum over containers, raised to the largest init container. */
export function podTotals(pod: Pod, which: 'requests' | 'limits'): ResourceList {
  const sum = new Map<string, Quantity>();
  for (const c of pod.spec?.containers ?? []) addTo(sum, c.resources?.[which]);
  const sidecars = new Map<string, Quantity>();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = new Map<string, Quantity>();
    addTo(own, c.resources?.[which]);
    // A sidecar (restartPolicy Always) runs beside the regular containers: it adds to them.
    if (c.restartPolicy === 'Always') {
      addTo(sum, c.resources?.[which]);
      addTo(sidecars, c.resources?.[which]);
      continue;
    }
    for (const [k, v] of own) {
      const withSidecars = v.add(sidecars.get(k) ?? Quantity.of(0));
      const cur = sum.get(k);
      if (cur === undefined || withSidecars.cmp(cur) > 0) sum.set(k, withSidecars);
    }
  }
  return toList(sum);
}

function checkItem(
  type: string,
  item: NonNullable<LimitRange['spec']>['limits'][number],
  request: ResourceList,
  limit: ResourceList,
  errs: string[],
): void {
  for (const [k, v] of Object.entries(item.min ?? {})) {
    const e = q(v);
    const m = e && minConstraint(type, k, e, request, limit);
    if (m) errs.push(m);
  }
  for (const [k, v] of Object.entries(item.max ?? {})) {
    const e = q(v);
    const m = e && maxConstraint(type, k, e, request, limit);
    if (m) errs.push(m);
  }
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const e = q(v);
    const m = e && ratioConstraint(type, k, e, request, limit);
    if (m) errs.push(m);
  }
}

/** Enforces a LimitRange on a pod; returns the violations (upstream PodValidateLimitFunc). */
export function podValidateLimits(lr: LimitRange, pod: Pod): string[] {
  const errs: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type === 'Container') {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
        checkItem('Container', item, c.resources?.requests ?? {}, c.resources?.limits ?? {}, errs);
      }
    }
    if (item.type === 'Pod')
      checkItem('Pod', item, podTotals(pod, 'requests'), podTotals(pod, 'limits'), errs);
  }
  return errs;
}

/** Enforces a LimitRange's PersistentVolumeClaim min/max on a claim's requests. */
export function pvcValidateLimits(lr: LimitRange, pvc: PersistentVolumeClaim): string[] {
  const errs: string[] = [];
  const requests = (pvc.spec?.resources?.requests ?? {}) as ResourceList;
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [k, v] of Object.entries(item.min ?? {})) {
      const e = q(v);
      const m = e && minConstraint('PersistentVolumeClaim', k, e, requests, {});
      if (m) errs.push(m);
    }
    for (const [k, v] of Object.entries(item.max ?? {})) {
      const e = q(v);
      const m = e && maxRequestConstraint('PersistentVolumeClaim', k, e, requests);
      if (m) errs.push(m);
    }
  }
  return errs;
}

/** Upstream's utilerrors aggregate message: one error bare, several in brackets (deduplicated). */
export function aggregateMessage(errs: string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

/** The LimitRanger plugin. */
export function limitRanger(stores: StoreRegistry): AdmissionPlugin {
  const ranges = async (ns: string) =>
    (await listObjects(stores, '', 'limitranges', ns)) as unknown as LimitRange[];
  return {
    name: 'LimitRanger',
    async admit(req: AdmissionRequest): Promise<void> {
      if (!supports(req) || !isResource(req, '', 'pods')) return;
      const pod = asPod(req.object);
      if (!pod) return;
      for (const lr of await ranges(req.namespace)) podMutateLimits(lr, pod);
    },
    async validate(req: AdmissionRequest): Promise<void> {
      if (!supports(req) || !req.object) return;
      for (const lr of await ranges(req.namespace)) {
        const errs = isResource(req, '', 'pods')
          ? podValidateLimits(lr, req.object as unknown as Pod)
          : pvcValidateLimits(lr, req.object as unknown as PersistentVolumeClaim);
        if (errs.length > 0) throw denied(req, aggregateMessage(errs));
      }
    },
  };
}
