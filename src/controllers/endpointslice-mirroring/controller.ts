// The EndpointSlice mirroring controller (upstream pkg/controller/endpointslicemirroring):
// Endpoints written by users for Services without a selector are copied into
// EndpointSlices (managed-by `endpointslicemirroring-controller.k8s.io`), so consumers
// that only read slices (kube-proxy, DNS) see them. Endpoints labelled
// `endpointslice.kubernetes.io/skip-mirror: "true"`, leader-election Endpoints, and
// Endpoints of services that have a selector (the EndpointSlice controller covers those)
// are not mirrored; their mirrored slices are removed.
import type { EndpointAddress, Endpoints, Service } from '../../api/generated/types/core-v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from '../../api/generated/types/discovery-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  splitKey,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { ENDPOINTS, ENDPOINTSLICES, SERVICES } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../endpoints/work-loop.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../endpointslice/controller.js';
import { type EndpointGroup, planSlices, portsKey } from '../endpointslice/reconciler.js';
import type { Controller, ControllerContext } from '../types.js';

/** This controller's managed-by value. */
export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
/** Label that opts Endpoints out of mirroring. */
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
/** Most addresses mirrored per subset (upstream --mirroring-max-endpoints-per-subset). */
export const MAX_ENDPOINTS_PER_SUBSET = 1000;
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
/** Annotations not copied onto slices. */
const SKIPPED_ANNOTATIONS = new Set([
  'endpoints.kubernetes.io/last-change-trigger-time',
  'kubectl.kubernetes.io/last-applied-configuration',
  LEADER_ANNOTATION,
]);

/** The endpointslice-mirroring controller. */
export class EndpointSliceMirroringController implements Controller {
  readonly name = 'endpointslice-mirroring';
  /** Endpoints keys waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly services: Lister<Service>;
  private readonly endpoints: Lister<Endpoints>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'endpoint_slice_mirroring' });
    const svc = ctx.informers.forResource(SERVICES);
    const ep = ctx.informers.forResource(ENDPOINTS);
    const sl = ctx.informers.forResource(ENDPOINTSLICES);
    this.services = svc.lister;
    this.endpoints = ep.lister;
    this.slices = sl.lister;
    this.synced = [svc.informer, ep.informer, sl.informer];
    const enqueue = (o: Service | Endpoints | DeletedFinalStateUnknown<Service | Endpoints>): void =>
      this.queue.add(metaNamespaceKeyFunc(unwrapTombstone(o)));
    svc.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    ep.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    const onSlice = (s: EndpointSlice | DeletedFinalStateUnknown<EndpointSlice>): void => {
      const l = unwrapTombstone(s).metadata?.labels ?? {};
      const name = l[LABEL_SERVICE_NAME];
      if (l[LABEL_MANAGED_BY] !== MIRRORING_CONTROLLER_NAME || name === undefined) return;
      this.queue.add(`${unwrapTombstone(s).metadata?.namespace ?? ''}/${name}`);
    };
    sl.informer.addEventHandler({ onAdd: onSlice, onUpdate: (_o, n) => onSlice(n), onDelete: onSlice });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runWorkers(this.queue, this.workers, (k) => this.sync(k), signal, this.log);
  }

  /** Reconciles the mirrored slices of one Endpoints key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const existing = this.slices
      .namespace(namespace)
      .list()
      .filter((s) => {
        const l = s.metadata?.labels ?? {};
        return l[LABEL_SERVICE_NAME] === name && l[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER_NAME;
      });
    const service = this.services.getByKey(key);
    const endpoints = this.endpoints.getByKey(key);
    if (service === undefined || endpoints === undefined || !shouldMirror(service, endpoints)) {
      await this.deleteAll(namespace, existing);
      return;
    }
    const labels: Record<string, string> = { ...(endpoints.metadata?.labels ?? {}) };
    labels[LABEL_SERVICE_NAME] = name;
    labels[LABEL_MANAGED_BY] = MIRRORING_CONTROLLER_NAME;
    const annotations = Object.fromEntries(
      Object.entries(endpoints.metadata?.annotations ?? {}).filter(([k]) => !SKIPPED_ANNOTATIONS.has(k)),
    );
    const ownerReferences = [
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        name,
        uid: endpoints.metadata?.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    const byType = new Map<string, Map<string, EndpointGroup>>();
    for (const subset of endpoints.subsets ?? []) {
      const ports: EndpointPort[] = (subset.ports ?? []).map((p) => ({
        name: p.name ?? '',
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}),
      }));
      let budget = MAX_ENDPOINTS_PER_SUBSET;
      const take = (addrs: EndpointAddress[] | undefined, ready: boolean): void => {
        for (const a of addrs ?? []) {
          if (budget <= 0) return;
          budget--;
          const type = a.ip.includes(':') ? 'IPv6' : 'IPv4';
          const groups = byType.get(type) ?? new Map<string, EndpointGroup>();
          byType.set(type, groups);
          const k = portsKey(ports);
          const g = groups.get(k) ?? { ports, endpoints: [] };
          groups.set(k, g);
          g.endpoints.push(addressToEndpoint(a, ready));
        }
      };
      take(subset.addresses, true);
      take(subset.notReadyAddresses, false);
    }
    const api = this.client.resource(ENDPOINTSLICES);
    const types = new Set([...byType.keys(), ...existing.map((s) => s.addressType)]);
    if (types.size === 0) types.add('IPv4');
    for (const type of types) {
      const template = (ports: EndpointPort[], eps: Endpoint[]): EndpointSlice => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: `${name.slice(0, 57)}-`,
          namespace,
          labels,
          ownerReferences,
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
        addressType: type,
        endpoints: eps,
        ...(ports.length > 0 ? { ports } : {}),
      });
      const mine = existing.filter((s) => s.addressType === type);
      const metaChanged = (s: EndpointSlice): boolean =>
        JSON.stringify(s.metadata?.labels ?? {}) !== JSON.stringify(labels) ||
        s.metadata?.ownerReferences?.[0]?.uid !== endpoints.metadata?.uid;
      const groups = [...(byType.get(type)?.values() ?? [])];
      const plan = planSlices(groups, mine, template, metaChanged, MAX_ENDPOINTS_PER_SUBSET);
      // Mirroring has no placeholder slices: an empty Endpoints mirrors to nothing.
      if (groups.length === 0) {
        plan.create = [];
        plan.update = [];
        plan.delete = mine;
      }
      for (const s of plan.create) await api.create(namespace, s);
      for (const s of plan.update) await api.update(namespace, s);
      await this.deleteAll(namespace, plan.delete);
    }
  }

  private async deleteAll(namespace: string, slices: EndpointSlice[]): Promise<void> {
    for (const s of slices) {
      try {
        await this.client.resource(ENDPOINTSLICES).delete(namespace, s.metadata?.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/** True when these Endpoints should be mirrored into slices. */
export function shouldMirror(service: Service, endpoints: Endpoints): boolean {
  if (service.spec?.selector !== undefined) return false;
  if (endpoints.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') return false;
  if (endpoints.metadata?.annotations?.[LEADER_ANNOTATION] !== undefined) return false;
  return true;
}

function addressToEndpoint(a: EndpointAddress, ready: boolean): Endpoint {
  const ep: Endpoint = { addresses: [a.ip], conditions: { ready } };
  if (a.hostname !== undefined && a.hostname !== '') ep.hostname = a.hostname;
  if (a.nodeName !== undefined && a.nodeName !== '') ep.nodeName = a.nodeName;
  if (a.targetRef !== undefined) ep.targetRef = a.targetRef;
  return ep;
}
