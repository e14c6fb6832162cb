// Services: ClusterIP and NodePort allocation at create, carried over or re-allocated on
// update (a manifest re-applied without clusterIP keeps the allocated one, as upstream),
// released on delete. Allocation failures are 422s with upstream's field paths.
import type { ResourceInfo } from '../../api/registry-types.js';
import { type FieldError, invalid } from '../../machinery/status-error.js';
import type { KObject } from './object.js';
import { AllocationError, type ServiceAllocator } from './service-allocator.js';
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

function ports(sp: Obj): ServicePort[] {
  return Array.isArray(sp.ports) ? (sp.ports as ServicePort[]) : [];
}

function needsClusterIP(sp: Obj): boolean {
  return sp.type !== 'ExternalName';
}

function needsNodePorts(sp: Obj): boolean {
  if (sp.type === 'NodePort') return true;
  return sp.type === 'LoadBalancer' && sp.allocateLoadBalancerNodePorts !== false;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
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

  override prepareForCreate(obj: KObject, _ctx: StrategyContext): void {
    obj.status = { loadBalancer: {} };
    const sp = specOf(obj);
    const name = obj.metadata?.name ?? '';
    const taken: { ips: string[]; ports: number[] } = { ips: [], ports: [] };
    try {
      this.allocateClusterIP(sp, name, taken);
      if (needsNodePorts(sp)) this.allocateNodePorts(sp, name, taken, undefined);
    } catch (e) {
      for (const ip of taken.ips) this.alloc.releaseIP(ip);
      for (const p of taken.ports) this.alloc.releasePort(p);
      throw e;
    }
  }

  private allocateClusterIP(sp: Obj, name: string, taken: { ips: string[] }): void {
    if (!needsClusterIP(sp)) return;
    const wanted = str(sp.clusterIP) || (Array.isArray(sp.clusterIPs) ? str(sp.clusterIPs[0]) : '');
    if (wanted === 'None') {
      sp.clusterIP = 'None';
      sp.clusterIPs = ['None'];
    } else {
      let ip: string;
      try {
        ip = this.alloc.allocateIP(wanted === '' ? undefined : wanted);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        throw invalid('Service', '', name, [
          { type: 'FieldValueInvalid', field: 'spec.clusterIPs', badValue: [wanted], detail: e.message },
        ]);
      }
      taken.ips.push(ip);
      sp.clusterIP = ip;
      sp.clusterIPs = [ip];
    }
    if (!Array.isArray(sp.ipFamilies) || sp.ipFamilies.length === 0) sp.ipFamilies = ['IPv4'];
    if (sp.ipFamilyPolicy === undefined) sp.ipFamilyPolicy = 'SingleStack';
  }

  private allocateNodePorts(
    sp: Obj,
    name: string,
    taken: { ports: number[] },
    old: ServicePort[] | undefined,
  ): void {
    const errs: FieldError[] = [];
    ports(sp).forEach((p, i) => {
      const prev = old?.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (p.nodePort === undefined || p.nodePort === 0) {
        if (prev?.nodePort) {
          p.nodePort = prev.nodePort;
          return;
        }
        p.nodePort = this.alloc.allocatePort();
        taken.ports.push(p.nodePort);
        return;
      }
      if (prev?.nodePort === p.nodePort) return;
      try {
        this.alloc.allocatePort(p.nodePort);
        taken.ports.push(p.nodePort);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        errs.push({
          type: 'FieldValueInvalid',
          field: `spec.ports[${i}].nodePort`,
          badValue: p.nodePort,
          detail: e.message,
        });
      }
    });
    if (errs.length > 0) throw invalid('Service', '', name, errs);
  }

  override prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
    super.prepareForUpdate(obj, old, ctx);
    const sp = specOf(obj);
    const op = (old.spec ?? {}) as Obj;
    const name = obj.metadata?.name ?? '';
    const taken = { ips: [] as string[], ports: [] as number[] };
    // Values the server allocated survive an update that omits them.
    if (needsClusterIP(sp) && needsClusterIP(op)) {
      if (sp.clusterIP === undefined || sp.clusterIP === '') sp.clusterIP = op.clusterIP;
      if (!Array.isArray(sp.clusterIPs) || sp.clusterIPs.length === 0) sp.clusterIPs = op.clusterIPs;
      if (sp.ipFamilies === undefined) sp.ipFamilies = op.ipFamilies;
      if (sp.ipFamilyPolicy === undefined) sp.ipFamilyPolicy = op.ipFamilyPolicy;
    } else if (needsClusterIP(sp) && !needsClusterIP(op)) {
      this.allocateClusterIP(sp, name, taken);
    } else if (!needsClusterIP(sp) && needsClusterIP(op)) {
      if (str(op.clusterIP) !== 'None') this.alloc.releaseIP(str(op.clusterIP));
      delete sp.clusterIP;
      delete sp.clusterIPs;
    }
    const oldPorts = ports(op);
    if (needsNodePorts(sp))
      this.allocateNodePorts(sp, name, taken, needsNodePorts(op) ? oldPorts : undefined);
    else for (const p of ports(sp)) delete p.nodePort;
    // Node ports no longer in use go back to the pool.
    const kept = new Set(ports(sp).map((p) => p.nodePort));
    for (const p of oldPorts) if (p.nodePort && !kept.has(p.nodePort)) this.alloc.releasePort(p.nodePort);
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
    const sp = (obj.spec ?? {}) as Obj;
    const ip = str(sp.clusterIP);
    if (ip !== '' && ip !== 'None') this.alloc.releaseIP(ip);
    for (const p of ports(sp)) if (p.nodePort) this.alloc.releasePort(p.nodePort);
  }

  /** Marks an existing Service's addresses as used (start-up repair). */
  markUsed(obj: KObject): void {
    const sp = (obj.spec ?? {}) as Obj;
    const ip = str(sp.clusterIP);
    if (ip !== '' && ip !== 'None') {
      try {
        this.alloc.allocateIP(ip);
      } catch {
        // Already marked, or outside the range after a CIDR change: nothing to repair here.
      }
    }
    for (const p of ports(sp)) {
      if (!p.nodePort) continue;
      try {
        this.alloc.allocatePort(p.nodePort);
      } catch {
        // As above.
      }
    }
  }
}

/** Hands the Service strategy (with its allocator) to the store registry. */
export function serviceStrategyOverride(alloc: ServiceAllocator): (r: ResourceInfo) => Strategy | undefined {
  return (r) => (r.group === '' && r.plural === 'services' ? new ServiceStrategy(r, alloc) : undefined);
}
