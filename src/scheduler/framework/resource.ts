// Resource vectors as plain numbers. Quantities are parsed once per distinct string (pods
// in a cluster repeat the same few requests), so the Filter/Score hot loop compares
// numbers, never Quantity objects: cpu in millicores, everything else in base units.

import type { Pod } from '../../api/generated/types/core-v1.js';
import { parseQuantity } from '../../machinery/quantity.js';

/** Well-known resource names. */
export const ResourceName = {
  cpu: 'cpu',
  memory: 'memory',
  ephemeralStorage: 'ephemeral-storage',
  pods: 'pods',
} as const;

/** Upstream's DefaultMilliCPURequest: what a container without a cpu request counts as for scoring. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Upstream's DefaultMemoryRequest (200 MiB). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

const parsedMilli = new Map<string, number>();
const parsedValue = new Map<string, number>();

/** A quantity string in thousandths (cpu), cached; malformed input counts as 0. */
export function milliValueOf(q: string | number): number {
  const key = String(q);
  let v = parsedMilli.get(key);
  if (v === undefined) {
    try {
      v = parseQuantity(key).milliValue();
    } catch {
      v = 0;
    }
    if (parsedMilli.size < 10_000) parsedMilli.set(key, v);
  }
  return v;
}

/** A quantity string rounded up to an integer (memory, storage, counts), cached. */
export function quantityValue(q: string | number): number {
  const key = String(q);
  let v = parsedValue.get(key);
  if (v === undefined) {
    try {
      v = parseQuantity(key).value();
    } catch {
      v = 0;
    }
    if (parsedValue.size < 10_000) parsedValue.set(key, v);
  }
  return v;
}

/** A resource vector (upstream's framework.Resource). */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  /** Only meaningful for node allocatable. */
  allowedPodNumber = 0;
  /** Extended resources, hugepages and anything else by name; undefined while empty. */
  scalar: Map<string, number> | undefined = undefined;

  /** A vector from a ResourceList. */
  static fromList(list: Record<string, string | number> | undefined): Resource {
    const r = new Resource();
    if (list !== undefined) r.addList(list);
    return r;
  }

  /** Adds every entry of a ResourceList. */
  addList(list: Record<string, string | number>): void {
    for (const name in list) {
      const q = list[name];
      if (q !== undefined) this.addNamed(name, q);
    }
  }

  /** Adds one named quantity. */
  addNamed(name: string, q: string | number): void {
    switch (name) {
      case ResourceName.cpu:
        this.milliCPU += milliValueOf(q);
        break;
      case ResourceName.memory:
        this.memory += quantityValue(q);
        break;
      case ResourceName.ephemeralStorage:
        this.ephemeralStorage += quantityValue(q);
        break;
      case ResourceName.pods:
        this.allowedPodNumber += quantityValue(q);
        break;
      default:
        this.addScalar(name, quantityValue(q));
    }
  }

  /** Adds to a scalar resource. */
  addScalar(name: string, v: number): void {
    if (this.scalar === undefined) this.scalar = new Map();
    this.scalar.set(name, (this.scalar.get(name) ?? 0) + v);
  }

  /** The amount of a resource by name (pods → allowedPodNumber). */
  get(name: string): number {
    switch (name) {
      case ResourceName.cpu:
        return this.milliCPU;
      case ResourceName.memory:
        return this.memory;
      case ResourceName.ephemeralStorage:
        return this.ephemeralStorage;
      case ResourceName.pods:
        return this.allowedPodNumber;
      default:
        return this.scalar?.get(name) ?? 0;
    }
  }

  /** this += o. */
  add(o: Resource): void {
    this.milliCPU += o.milliCPU;
    this.memory += o.memory;
    this.ephemeralStorage += o.ephemeralStorage;
    this.allowedPodNumber += o.allowedPodNumber;
    if (o.scalar !== undefined) for (const [k, v] of o.scalar) this.addScalar(k, v);
  }

  /** this -= o. */
  sub(o: Resource): void {
    this.milliCPU -= o.milliCPU;
    this.memory -= o.memory;
    this.ephemeralStorage -= o.ephemeralStorage;
    this.allowedPodNumber -= o.allowedPodNumber;
    if (o.scalar !== undefined) for (const [k, v] of o.scalar) this.addScalar(k, -v);
  }

  /** Raises each dimension to at least o's. */
  setMax(o: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, o.milliCPU);
    this.memory = Math.max(this.memory, o.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, o.ephemeralStorage);
    this.allowedPodNumber = Math.max(this.allowedPodNumber, o.allowedPodNumber);
    if (o.scalar !== undefined) {
      for (const [k, v] of o.scalar) {
        if (this.scalar === undefined) this.scalar = new Map();
        this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
      }
    }
  }

  /** An independent copy. */
  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    if (this.scalar !== undefined) r.scalar = new Map(this.scalar);
    return r;
  }

  /** True when every dimension is zero. */
  isZero(): boolean {
    if (this.milliCPU !== 0 || this.memory !== 0 || this.ephemeralStorage !== 0) return false;
    if (this.scalar !== undefined) for (const v of this.scalar.values()) if (v !== 0) return false;
    return true;
  }
}

/** A pod's requests computed both ways the scheduler needs them. */
export interface PodRequests {
  /** What Filter checks: the effective request (upstream's PodRequests). */
  requests: Resource;
  /** For scoring: containers without a cpu/memory request count the defaults. */
  nonZero: Resource;
}

/**
 * The effective request of a pod, as upstream 1.32's resource helper: regular containers and
 * restartable (sidecar) init containers run together and are summed; each plain init
 * container runs alone next to the sidecars started before it, and the pod needs the max of
 * that and the steady state; pod overhead is added on top.
 */
export function computePodRequests(pod: Pod): PodRequests {
  const spec = pod.spec;
  const requests = new Resource();
  const nonZero = new Resource();
  if (spec === undefined) return { requests, nonZero };
  for (const c of spec.containers ?? []) addContainer(requests, nonZero, c.resources?.requests);
  const inits = spec.initContainers;
  if (inits !== undefined && inits.length > 0) {
    const sidecars = new Resource();
    const sidecarsNZ = new Resource();
    const initMax = new Resource();
    const initMaxNZ = new Resource();
    for (const c of inits) {
      const r = new Resource();
      const nz = new Resource();
      addContainer(r, nz, c.resources?.requests);
      if (c.restartPolicy === 'Always') {
        requests.add(r);
        nonZero.add(nz);
        sidecars.add(r);
        sidecarsNZ.add(nz);
        initMax.setMax(sidecars);
        initMaxNZ.setMax(sidecarsNZ);
      } else {
        r.add(sidecars);
        nz.add(sidecarsNZ);
        initMax.setMax(r);
        initMaxNZ.setMax(nz);
      }
    }
    requests.setMax(initMax);
    nonZero.setMax(initMaxNZ);
  }
  if (spec.overhead !== undefined) {
    const o = Resource.fromList(spec.overhead);
    requests.add(o);
    nonZero.add(o);
  }
  return { requests, nonZero };
}

function addContainer(r: Resource, nz: Resource, req: Record<string, string> | undefined): void {
  let hasCPU = false;
  let hasMem = false;
  if (req !== undefined) {
    r.addList(req);
    for (const name in req) {
      const q = req[name];
      if (q === undefined) continue;
      if (name === ResourceName.cpu) hasCPU = true;
      else if (name === ResourceName.memory) hasMem = true;
      nz.addNamed(name, q);
    }
  }
  if (!hasCPU) nz.milliCPU += DEFAULT_MILLI_CPU_REQUEST;
  if (!hasMem) nz.memory += DEFAULT_MEMORY_REQUEST;
}

/** True for names that are neither native (cpu, memory, …) nor in the kubernetes.io domain. */
export function isExtendedResourceName(name: string): boolean {
  if (name.startsWith('requests.')) return false;
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const domain = name.slice(0, slash);
  return !(domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io'));
}
