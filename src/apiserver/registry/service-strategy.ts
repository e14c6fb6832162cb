// Services: ClusterIP and NodePort allocation at create, carried over or re-allocated on
// update (a manifest re-applied without clusterIP keeps the allocated one, as upstream),
// released on delete. Allocations are made before the Service is written and released only
// after the write that stops using them, so a failure in between leaks a value (the repair
// loop reclaims it) and never hands one out twice. Allocation failures are upstream's: 422s
// with its field paths, 500 when a range is full.
import type { ResourceInfo } from '../../api/registry-types.js';
import { type FieldError, internalError, invalid } from '../../machinery/status-error.js';
import type { KObject } from './object.js';
import { AllocationError, type AllocationOwner, type ServiceAllocator } from './service-allocator.js';
import { DefaultStrategy, type Strategy, type StrategyContext } from './strategy.js';

type Obj = Record<string, unknown>;

interface ServicePort {
  port?: number;
  protocol?: string;
  nodePort?: number;
  name?: string;
}

function specOf(o: KObject): Obj {
  if (typeof o.spec !== 'object' || o.spec === null) o.spec = {};
  return o.spec as Obj;
}

// Allocation runs before validation (as upstream's BeginCreate does), so malformed entries
// are skipped here and left for validation to report.
function isPort(p: unknown): p is ServicePort {
  if (typeof p !== 'object' || p === null) return false;
  const n = (p as ServicePort).nodePort;
  return n === undefined || typeof n === 'number';
}

function ports(sp: Obj): ServicePort[] {
  return Array.isArray(sp.ports) ? (sp.ports as unknown[]).filter(isPort) : [];
}

function needsClusterIP(sp: Obj): boolean {
  return sp.type !== 'ExternalName';
}

function sameStrings(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return !Array.isArray(a) && !Array.isArray(b);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// Upstream's normalizeClusterIPs for an update: a client that changed only the singular
// clusterIP (kubectl patch, an old client) meant the plural too, so validation then reports
// the change as `spec.clusterIPs[0] … may not change once set`, as upstream does.
function normalizeClusterIPs(sp: Obj, op: Obj): void {
  if (sp.clusterIP === op.clusterIP) return;
  if (typeof op.clusterIP === 'string' && op.clusterIP !== '' && (sp.clusterIP ?? '') === '') {
    if (sameStrings(sp.clusterIPs, op.clusterIPs)) delete sp.clusterIPs;
  }
  if (sameStrings(sp.clusterIPs, op.clusterIPs)) sp.clusterIPs = [sp.clusterIP];
}

function needsNodePorts(sp: Obj): boolean {
  if (sp.type === 'NodePort') return true;
  return sp.type === 'LoadBalancer' && sp.allocateLoadBalancerNodePorts !== false;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function ownerOf(obj: KObject): AllocationOwner {
  const m = obj.metadata ?? {};
  return { namespace: m.namespace ?? '', name: m.name ?? '', uid: m.uid ?? '' };
}

/** The ClusterIP a Service holds in the range ('' for none, headless or ExternalName). */
export function heldClusterIP(obj: KObject): string {
  const sp = (obj.spec ?? {}) as Obj;
  if (!needsClusterIP(sp)) return '';
  const ip = str(sp.clusterIP);
  return ip === 'None' ? '' : ip;
}

/** The node ports a Service holds (each once). */
export function heldNodePorts(obj: KObject): number[] {
  const sp = (obj.spec ?? {}) as Obj;
  const out = new Set<number>();
  for (const p of ports(sp)) if (typeof p.nodePort === 'number' && p.nodePort > 0) out.add(p.nodePort);
  return [...out];
}

// Values one write allocated, given back together when the write fails.
interface Taken {
  ips: string[];
  ports: number[];
}

/** The Service strategy with allocation. */
export class ServiceStrategy extends DefaultStrategy {
  constructor(
    resource: ResourceInfo,
    private readonly alloc: ServiceAllocator,
  ) {
    super(resource, {});
  }

  override selectableFields(obj: KObject): Record<string, string> {
    const sp = (obj.spec ?? {}) as Obj;
    return { 'spec.clusterIP': str(sp.clusterIP), 'spec.type': str(sp.type) };
  }

  override async prepareForCreate(obj: KObject, ctx: StrategyContext): Promise<void> {
    obj.status = { loadBalancer: {} };
    const sp = specOf(obj);
    const owner = ownerOf(obj);
    const taken: Taken = { ips: [], ports: [] };
    const dryRun = ctx.dryRun === true;
    try {
      await this.allocateClusterIP(sp, owner, taken, dryRun);
      if (needsNodePorts(sp)) await this.allocateNodePorts(sp, owner, taken, undefined, dryRun);
    } catch (e) {
      this.giveBack(taken, owner.uid);
      throw e;
    }
  }

  private giveBack(taken: Taken, uid: string): void {
    for (const ip of taken.ips) void this.alloc.releaseIP(ip, uid);
    for (const p of taken.ports) void this.alloc.releasePort(p, uid);
  }

  private async allocateClusterIP(
    sp: Obj,
    owner: AllocationOwner,
    taken: Taken,
    dryRun: boolean,
  ): Promise<void> {
    if (!needsClusterIP(sp)) return;
    const wanted = str(sp.clusterIP) || (Array.isArray(sp.clusterIPs) ? str(sp.clusterIPs[0]) : '');
    if (wanted === 'None') {
      sp.clusterIP = 'None';
      sp.clusterIPs = ['None'];
    } else {
      let ip: string;
      try {
        ip = await this.alloc.allocateIP(owner, wanted === '' ? undefined : wanted, dryRun);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        if (e.reason === 'full') throw internalError(`failed to allocate a serviceIP: ${e.message}`);
        const bad = Array.isArray(sp.clusterIPs) && sp.clusterIPs.length > 0 ? sp.clusterIPs : [wanted];
        throw invalid('Service', '', owner.name, [
          { type: 'FieldValueInvalid', field: 'spec.clusterIPs', badValue: bad, detail: e.message },
        ]);
      }
      if (!dryRun) taken.ips.push(ip);
      sp.clusterIP = ip;
      sp.clusterIPs = [ip];
    }
    if (!Array.isArray(sp.ipFamilies) || sp.ipFamilies.length === 0) sp.ipFamilies = ['IPv4'];
    if (sp.ipFamilyPolicy === undefined) sp.ipFamilyPolicy = 'SingleStack';
  }

  private async allocateNodePorts(
    sp: Obj,
    owner: AllocationOwner,
    taken: Taken,
    old: ServicePort[] | undefined,
    dryRun: boolean,
  ): Promise<void> {
    const errs: FieldError[] = [];
    const list: unknown[] = Array.isArray(sp.ports) ? sp.ports : [];
    for (const [i, p] of list.entries()) {
      if (!isPort(p)) continue;
      const prev = old?.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (p.nodePort === undefined || p.nodePort === 0) {
        if (prev?.nodePort) {
          p.nodePort = prev.nodePort;
          continue;
        }
        try {
          p.nodePort = await this.alloc.allocatePort(owner, undefined, dryRun);
        } catch (e) {
          if (!(e instanceof AllocationError)) throw e;
          throw internalError(`failed to allocate a nodePort: ${e.message}`);
        }
        if (!dryRun) taken.ports.push(p.nodePort);
        continue;
      }
      if (prev?.nodePort === p.nodePort) continue;
      try {
        await this.alloc.allocatePort(owner, p.nodePort, dryRun);
        if (!dryRun) taken.ports.push(p.nodePort);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        errs.push({
          type: 'FieldValueInvalid',
          field: `spec.ports[${i}].nodePort`,
          badValue: p.nodePort,
          detail: e.message,
        });
      }
    }
    if (errs.length > 0) throw invalid('Service', '', owner.name, errs);
  }

  override async prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): Promise<void> {
    super.prepareForUpdate(obj, old, ctx);
    const sp = specOf(obj);
    const op = (old.spec ?? {}) as Obj;
    // The stored object's identity owns the allocations, whatever the request body says.
    const owner = ownerOf(old);
    const taken: Taken = { ips: [], ports: [] };
    const dryRun = ctx.dryRun === true;
    try {
      // Values the server allocated survive an update that omits them.
      if (needsClusterIP(sp) && needsClusterIP(op)) {
        if (sp.clusterIP === undefined || sp.clusterIP === '') sp.clusterIP = op.clusterIP;
        if (!Array.isArray(sp.clusterIPs) || sp.clusterIPs.length === 0) sp.clusterIPs = op.clusterIPs;
        if (sp.ipFamilies === undefined) sp.ipFamilies = op.ipFamilies;
        if (sp.ipFamilyPolicy === undefined) sp.ipFamilyPolicy = op.ipFamilyPolicy;
        normalizeClusterIPs(sp, op);
      } else if (needsClusterIP(sp) && !needsClusterIP(op)) {
        await this.allocateClusterIP(sp, owner, taken, dryRun);
      } else if (!needsClusterIP(sp) && needsClusterIP(op)) {
        delete sp.clusterIP;
        delete sp.clusterIPs;
      }
      if (needsNodePorts(sp))
        await this.allocateNodePorts(sp, owner, taken, needsNodePorts(op) ? ports(op) : undefined, dryRun);
      else for (const p of ports(sp)) delete p.nodePort;
    } catch (e) {
      this.giveBack(taken, owner.uid);
      throw e;
    }
  }

  /** Releases what the old object held and the stored one no longer uses. */
  afterUpdate(obj: KObject, old: KObject): void {
    const uid = old.metadata?.uid ?? '';
    const ip = heldClusterIP(old);
    if (ip !== '' && heldClusterIP(obj) !== ip) void this.alloc.releaseIP(ip, uid);
    const kept = new Set(heldNodePorts(obj));
    for (const p of heldNodePorts(old)) if (!kept.has(p)) void this.alloc.releasePort(p, uid);
  }

  /** Gives back what a create that failed after prepareForCreate had allocated. */
  rollbackCreate(obj: KObject): void {
    this.release(obj);
  }

  /** Releases a deleted Service's addresses. */
  afterDelete(obj: KObject): void {
    this.release(obj);
  }

  private release(obj: KObject): void {
    const uid = obj.metadata?.uid ?? '';
    const ip = heldClusterIP(obj);
    if (ip !== '') void this.alloc.releaseIP(ip, uid);
    for (const p of heldNodePorts(obj)) void this.alloc.releasePort(p, uid);
  }

  /** Marks an existing Service's addresses as used in the allocator's view (writes nothing). */
  markUsed(obj: KObject): void {
    const uid = obj.metadata?.uid ?? '';
    const ip = heldClusterIP(obj);
    if (ip !== '') this.alloc.markUsed({ kind: 'ip', ip }, uid);
    for (const port of heldNodePorts(obj)) this.alloc.markUsed({ kind: 'port', port }, uid);
  }
}

/** Hands the Service strategy (with its allocator) to the store registry. */
export function serviceStrategyOverride(alloc: ServiceAllocator): (r: ResourceInfo) => Strategy | undefined {
  return (r) => (r.group === '' && r.plural === 'services' ? new ServiceStrategy(r, alloc) : undefined);
}
