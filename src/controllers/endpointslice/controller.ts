// The EndpointSlice controller (upstream pkg/controller/endpointslice): for every Service
// with a selector it keeps discovery.k8s.io/v1 EndpointSlices named `<service>-<random>`,
// labelled with the service name and this controller as manager, owned by the Service,
// each holding at most 100 endpoints that share one port set. Unlike Endpoints, slices
// include terminating pods: `serving` follows the pod's Ready condition, `terminating` its
// deletionTimestamp, and `ready` is serving and not terminating (or always true when the
// service publishes not-ready addresses).
import { isDeepStrictEqual } from 'node:util';
import type { Node, Pod, Service } from '../../api/generated/types/core-v1.js';
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
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { selectorFromSet } from '../../machinery/labels/selector.js';
import { isNotFound } from '../../machinery/status-error.js';
import {
  findPort,
  isPodReady,
  podIPForService,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from '../endpoints/pod-util.js';
import { LAST_CHANGE_TRIGGER_TIME, rfc3339Nano, TriggerTimeTracker } from '../endpoints/trigger-time.js';
import { runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import { type EndpointGroup, planSlices, portsKey } from './reconciler.js';

/** Label naming the service a slice belongs to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Label naming the controller that manages a slice. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** This controller's managed-by value. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Most endpoints per slice (upstream --max-endpoints-per-slice default). */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** The node label holding its zone. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The endpointslice controller. */
export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  /** Service keys waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly nodes: Lister<Node>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly triggers = new TriggerTimeTracker();
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;
  /** Most endpoints per slice (settable for tests). */
  maxEndpointsPerSlice = MAX_ENDPOINTS_PER_SLICE;

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'endpoint_slice' });
    const svc = ctx.informers.forResource(SERVICES);
    const pod = ctx.informers.forResource(PODS);
    const sl = ctx.informers.forResource(ENDPOINTSLICES);
    const node = ctx.informers.forResource(NODES);
    this.services = svc.lister;
    this.pods = pod.lister;
    this.slices = sl.lister;
    this.nodes = node.lister;
    this.synced = [svc.informer, pod.informer, sl.informer, node.informer];
    const enqueue = (o: Service | DeletedFinalStateUnknown<Service>): void =>
      this.queue.add(metaNamespaceKeyFunc(unwrapTombstone(o)));
    svc.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    pod.informer.addEventHandler({
      onAdd: (p) => this.enqueueServicesOf(p),
      onUpdate: (o, n) => {
        this.enqueueServicesOf(n);
        if (!isDeepStrictEqual(o.metadata?.labels, n.metadata?.labels)) this.enqueueServicesOf(o);
      },
      onDelete: (p) => this.enqueueServicesOf(unwrapTombstone(p)),
    });
    // Someone else changing or deleting our slices: put them back.
    const onSlice = (s: EndpointSlice | DeletedFinalStateUnknown<EndpointSlice>): void => {
      const slice = unwrapTombstone(s);
      const labels = slice.metadata?.labels ?? {};
      const svcName = labels[LABEL_SERVICE_NAME];
      if (labels[LABEL_MANAGED_BY] !== CONTROLLER_NAME || svcName === undefined) return;
      this.queue.add(`${slice.metadata?.namespace ?? ''}/${svcName}`);
    };
    sl.informer.addEventHandler({ onAdd: onSlice, onUpdate: (_o, n) => onSlice(n), onDelete: onSlice });
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await runWorkers(this.queue, this.workers, (k) => this.sync(k), signal, this.log);
  }

  private enqueueServicesOf(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    for (const svc of this.services.namespace(ns).list()) {
      const sel = svc.spec?.selector;
      if (sel === undefined) continue;
      if (selectorFromSet(sel).matches(pod.metadata?.labels)) this.queue.add(`${ns}/${svc.metadata?.name}`);
    }
  }

  /** Reconciles the slices of one service key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const service = this.services.getByKey(key);
    // Slices of a deleted service go with it through their ownerReference (garbage collector).
    if (service === undefined) {
      this.triggers.forget(key);
      return;
    }
    if (service.spec?.type === 'ExternalName' || service.spec?.selector === undefined) return;
    const pods = this.pods.namespace(namespace).list(selectorFromSet(service.spec.selector));
    const addressType = service.spec.ipFamilies?.[0] === 'IPv6' ? 'IPv6' : 'IPv4';
    const groups = new Map<string, EndpointGroup>();
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ep = this.podEndpoint(pod, service);
      if (ep === undefined) continue;
      const ports = endpointPorts(service, pod);
      const k = portsKey(ports);
      const g = groups.get(k) ?? { ports, endpoints: [] };
      g.endpoints.push(ep);
      groups.set(k, g);
    }
    const existing = this.slices
      .namespace(namespace)
      .list()
      .filter((s) => {
        const l = s.metadata?.labels ?? {};
        return (
          l[LABEL_SERVICE_NAME] === name &&
          l[LABEL_MANAGED_BY] === CONTROLLER_NAME &&
          s.addressType === addressType
        );
      });
    const labels = sliceLabels(service);
    const ownerReferences = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name,
        uid: service.metadata?.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    const triggerTime = this.triggers.compute(key, service, pods);
    const template = (ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        generateName: `${name.slice(0, 57)}-`,
        namespace,
        labels,
        ownerReferences,
        ...(triggerTime !== undefined
          ? { annotations: { [LAST_CHANGE_TRIGGER_TIME]: rfc3339Nano(triggerTime) } }
          : {}),
      },
      addressType,
      endpoints,
      ...(ports.length > 0 ? { ports } : {}),
    });
    const metaChanged = (s: EndpointSlice): boolean =>
      !isDeepStrictEqual(s.metadata?.labels ?? {}, labels) ||
      s.metadata?.ownerReferences?.[0]?.uid !== service.metadata?.uid;
    const plan = planSlices([...groups.values()], existing, template, metaChanged, this.maxEndpointsPerSlice);
    const api = this.client.resource(ENDPOINTSLICES);
    for (const s of plan.create) await api.create(namespace, s);
    for (const s of plan.update) {
      if (triggerTime !== undefined) {
        s.metadata = {
          ...s.metadata,
          annotations: { ...s.metadata?.annotations, [LAST_CHANGE_TRIGGER_TIME]: rfc3339Nano(triggerTime) },
        };
      }
      await api.update(namespace, s);
    }
    for (const s of plan.delete) {
      try {
        await api.delete(namespace, s.metadata?.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private podEndpoint(pod: Pod, service: Service): Endpoint | undefined {
    const ip = podIPForService(pod, service);
    if (ip === '') return undefined;
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    const serving = isPodReady(pod);
    const terminating = pod.metadata?.deletionTimestamp !== undefined;
    // `ready` never reports a terminating pod, unless the service publishes everything.
    const ready = publishNotReady || (serving && !terminating);
    const ep: Endpoint = {
      addresses: [ip],
      conditions: { ready, serving, terminating },
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        uid: pod.metadata?.uid ?? '',
      },
    };
    const nodeName = pod.spec?.nodeName ?? '';
    if (nodeName !== '') {
      ep.nodeName = nodeName;
      const zone = this.nodes.getByKey(nodeName)?.metadata?.labels?.[ZONE_LABEL];
      if (zone !== undefined) ep.zone = zone;
    }
    if (shouldSetHostname(pod, service)) ep.hostname = pod.spec?.hostname ?? '';
    return ep;
  }
}

/** The ports a pod offers for a service (named target ports resolved on the pod). */
export function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** A slice's labels: the service's own, the headless marker, service name and manager. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  delete labels[LABEL_SERVICE_NAME];
  delete labels[LABEL_MANAGED_BY];
  delete labels[HEADLESS_LABEL];
  if (service.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[LABEL_SERVICE_NAME] = service.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}
