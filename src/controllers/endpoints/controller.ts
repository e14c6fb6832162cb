// The Endpoints controller (upstream pkg/controller/endpoint): for every Service with a
// selector it writes an Endpoints object of the same name listing the matching pods —
// ready pods under `addresses`, the others under `notReadyAddresses` (all under
// `addresses` when the service publishes not-ready addresses) — with the service's ports
// resolved per pod (named target ports are looked up in each pod's containers), grouped
// into subsets by identical port sets. Services without a selector are left to whoever
// manages their Endpoints. Level-based: every sync recomputes the whole object.
import { isDeepStrictEqual } from 'node:util';
import type {
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Endpoints,
  Pod,
  Service,
} from '../../api/generated/types/core-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import type { DeletedFinalStateUnknown } from '../../client/cache/store.js';
import { metaNamespaceKeyFunc, splitKey, unwrapTombstone } from '../../client/cache/store.js';
import type { Client } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { ENDPOINTS, PODS, SERVICES } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { selectorFromSet } from '../../machinery/labels/selector.js';
import { isNotFound } from '../../machinery/status-error.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  findPort,
  isPodReady,
  podIPForService,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from './pod-util.js';
import { repackSubsets } from './subsets.js';
import { LAST_CHANGE_TRIGGER_TIME, rfc3339Nano, TriggerTimeTracker } from './trigger-time.js';
import { runWorkers } from './work-loop.js';

/** Most addresses one Endpoints object holds (upstream maxCapacity). */
export const MAX_ENDPOINTS_CAPACITY = 1000;
/** Annotation set when addresses were dropped to stay under the capacity. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Label marking the endpoints of a headless service. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The endpoints controller. */
export class EndpointsController implements Controller {
  readonly name = 'endpoint';
  /** Service keys waiting to be synced. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly endpoints: Lister<Endpoints>;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly triggers = new TriggerTimeTracker();
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>;

  /** Wires the informer handlers (they only enqueue service keys). */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'endpoint' });
    const svc = ctx.informers.forResource(SERVICES);
    const pod = ctx.informers.forResource(PODS);
    const ep = ctx.informers.forResource(ENDPOINTS);
    this.services = svc.lister;
    this.pods = pod.lister;
    this.endpoints = ep.lister;
    this.synced = [svc.informer, pod.informer, ep.informer];
    const enqueue = (o: Service | DeletedFinalStateUnknown<Service>): void =>
      this.queue.add(metaNamespaceKeyFunc(unwrapTombstone(o)));
    svc.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    pod.informer.addEventHandler({
      onAdd: (p) => this.enqueueServicesOf(p),
      onUpdate: (o, n) => {
        // A pod whose labels changed may have left services it matched before.
        this.enqueueServicesOf(n);
        if (!isDeepStrictEqual(o.metadata?.labels, n.metadata?.labels)) this.enqueueServicesOf(o);
      },
      onDelete: (p) => this.enqueueServicesOf(unwrapTombstone(p)),
    });
    // A deleted Endpoints object of a live service is recreated.
    ep.informer.addEventHandler({
      onDelete: (e) => {
        const key = metaNamespaceKeyFunc(unwrapTombstone(e));
        if (this.services.getByKey(key) !== undefined) this.queue.add(key);
      },
    });
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

  /** Reconciles the Endpoints of one service key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const service = this.services.getByKey(key);
    if (service === undefined) {
      this.triggers.forget(key);
      try {
        await this.client.resource(ENDPOINTS).delete(namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // ExternalName services never get endpoints; selector-less ones are managed by users.
    if (service.spec?.type === 'ExternalName' || service.spec?.selector === undefined) return;
    const pods = this.pods.namespace(namespace).list(selectorFromSet(service.spec.selector));
    let subsets = computeSubsets(service, pods);
    const truncated = truncateEndpoints(subsets);
    subsets = subsets.filter((s) => (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0) > 0);
    const triggerTime = this.triggers.compute(key, service, pods);

    const current = this.endpoints.getByKey(key);
    const labels = endpointsLabels(service);
    const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    if (
      current !== undefined &&
      sameJSON(current.subsets ?? [], subsets) &&
      sameJSON(current.metadata?.labels ?? {}, labels) &&
      current.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] === annotations[OVER_CAPACITY_ANNOTATION]
    ) {
      return;
    }
    if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    const desired: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        ...(current?.metadata ?? {}),
        name,
        namespace,
        labels,
        annotations,
      },
      subsets,
    };
    if (Object.keys(annotations).length === 0) delete desired.metadata?.annotations;
    if (current === undefined) {
      await this.client.resource(ENDPOINTS).create(namespace, desired);
    } else {
      await this.client.resource(ENDPOINTS).update(namespace, desired);
    }
  }
}

/** The labels of a service's Endpoints: the service's, plus the headless marker. */
export function endpointsLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  if (service.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

/** The subsets for a service over the given pods (already repacked and sorted). */
export function computeSubsets(service: Service, pods: Pod[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const raw: EndpointSubset[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPForService(pod, service);
    if (ip === '') continue;
    const addr: EndpointAddress = {
      ip,
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        uid: pod.metadata?.uid ?? '',
      },
    };
    if ((pod.spec?.nodeName ?? '') !== '') addr.nodeName = pod.spec?.nodeName ?? '';
    if (shouldSetHostname(pod, service)) addr.hostname = pod.spec?.hostname ?? '';
    const ready = publishNotReady || isPodReady(pod);
    const add = (ports: EndpointPort[] | undefined): void => {
      raw.push(
        ready
          ? { addresses: [addr], ...(ports ? { ports } : {}) }
          : { notReadyAddresses: [addr], ...(ports ? { ports } : {}) },
      );
    };
    const svcPorts = service.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      // Headless services may have no ports; their endpoints still list the pods.
      if (service.spec?.clusterIP === 'None') add(undefined);
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const epp: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name !== undefined && sp.name !== '') epp.name = sp.name;
      if (sp.appProtocol !== undefined) epp.appProtocol = sp.appProtocol;
      add([epp]);
    }
  }
  return repackSubsets(raw);
}

/**
 * Drops addresses beyond MAX_ENDPOINTS_CAPACITY, not-ready ones first, each subset keeping
 * its proportional share (upstream truncateEndpoints). Returns true when it truncated.
 */
export function truncateEndpoints(subsets: EndpointSubset[], max = MAX_ENDPOINTS_CAPACITY): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const room = truncateReady ? max : max - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = room;
  for (const s of subsets) {
    const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    const toBeAdded = Math.min(Math.ceil((inSubset / total) * room), canBeAdded);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses.length;
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses.length;
    }
    if (s.addresses?.length === 0) delete s.addresses;
    if (s.notReadyAddresses?.length === 0) delete s.notReadyAddresses;
  }
  return true;
}

function sameJSON(a: unknown, b: unknown): boolean {
  // Key order differs between what the server returns and what we build.
  return isDeepStrictEqual(a, b);
}
