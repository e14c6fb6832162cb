// The ResourceQuota controller (upstream pkg/controller/resourcequota): keeps each
// quota's `status.hard` equal to its spec and `status.used` equal to what its namespace
// uses (usage.ts), recomputed when the quota changes, when objects it counts change, and
// every 5 minutes for everything. Admission enforces quotas; this controller only reports.
import { isDeepStrictEqual } from 'node:util';
import type {
  ConfigMap,
  PersistentVolumeClaim,
  Pod,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
} from '../../api/generated/types/core-v1.js';
import { preferredResources } from '../../api/registry.js';
import type { Lister } from '../../client/cache/listers.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  splitKey,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import { type Client, gvr, type KubeObject } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import {
  CONFIGMAPS,
  PERSISTENTVOLUMECLAIMS,
  PODS,
  REPLICATIONCONTROLLERS,
  SECRETS,
  SERVICES,
} from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { parseQuantity } from '../../machinery/quantity.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runPeriodically, runWorkers } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import { computeUsage, type NamespaceObjects, quotaScopes } from './usage.js';

/** core/v1 resourcequotas. */
export const RESOURCEQUOTAS = gvr<ResourceQuota>('', 'v1', 'resourcequotas');
/** Full recalculation period (upstream --resource-quota-sync-period). */
export const QUOTA_RESYNC_MS = 5 * 60_000;

/** The resourcequota controller. */
export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  /** Quota keys waiting to be recalculated. */
  readonly queue: RateLimitingQueue<string>;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly quotas: Lister<ResourceQuota>;
  private readonly pods: Lister<Pod>;
  private readonly services: Lister<Service>;
  private readonly pvcs: Lister<PersistentVolumeClaim>;
  private readonly listers: Record<string, Lister<KubeObject>>;
  private readonly synced: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }> = [];

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'resourcequota_primary' });
    const rq = ctx.informers.forResource(RESOURCEQUOTAS);
    this.quotas = rq.lister;
    this.synced.push(rq.informer);
    const onQuota = (o: ResourceQuota | DeletedFinalStateUnknown<ResourceQuota>): void =>
      this.queue.add(metaNamespaceKeyFunc(unwrapTombstone(o)));
    rq.informer.addEventHandler({
      onAdd: onQuota,
      onUpdate: (o, n) => {
        if (!isDeepStrictEqual(o.spec, n.spec) || !isDeepStrictEqual(o.status, n.status)) onQuota(n);
      },
    });
    const watched = {
      pods: ctx.informers.forResource(PODS),
      services: ctx.informers.forResource(SERVICES),
      persistentvolumeclaims: ctx.informers.forResource(PERSISTENTVOLUMECLAIMS),
      configmaps: ctx.informers.forResource<ConfigMap>(CONFIGMAPS),
      secrets: ctx.informers.forResource<Secret>(SECRETS),
      replicationcontrollers: ctx.informers.forResource<ReplicationController>(REPLICATIONCONTROLLERS),
    };
    this.pods = watched.pods.lister;
    this.services = watched.services.lister;
    this.pvcs = watched.persistentvolumeclaims.lister;
    this.listers = {};
    for (const [name, h] of Object.entries(watched)) {
      this.listers[name] = h.lister as unknown as Lister<KubeObject>;
      this.synced.push(h.informer);
      const onObj = (o: KubeObject | DeletedFinalStateUnknown<KubeObject>): void =>
        this.enqueueNamespace(unwrapTombstone(o).metadata?.namespace ?? '');
      (h.informer as unknown as { addEventHandler(x: object): void }).addEventHandler({
        onAdd: onObj,
        onUpdate: (_o: KubeObject, n: KubeObject) => onObj(n),
        onDelete: onObj,
      });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const s of this.synced) if (!(await s.waitForSync(signal))) return;
    await Promise.all([
      runWorkers(this.queue, this.workers, (k) => this.sync(k), signal, this.log),
      runPeriodically(
        this.clock,
        QUOTA_RESYNC_MS,
        () => {
          for (const q of this.quotas.list()) this.queue.add(metaNamespaceKeyFunc(q));
        },
        signal,
        this.log,
      ),
    ]);
  }

  private enqueueNamespace(ns: string): void {
    for (const q of this.quotas.namespace(ns).list()) this.queue.add(metaNamespaceKeyFunc(q));
  }

  /** Recalculates one quota's status. */
  async sync(key: string): Promise<void> {
    const quota = this.quotas.getByKey(key);
    if (quota === undefined) return;
    const { namespace } = splitKey(key);
    const hard = quota.spec?.hard ?? {};
    const objs = await this.namespaceObjects(namespace, Object.keys(hard));
    const used = computeUsage(hard, quotaScopes(quota), objs);
    const status = { hard: { ...hard }, used };
    if (quantitiesEqual(quota.status?.hard, status.hard) && quantitiesEqual(quota.status?.used, status.used))
      return;
    try {
      await this.client.resource(RESOURCEQUOTAS).updateStatus(namespace, { ...quota, status });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async namespaceObjects(namespace: string, names: string[]): Promise<NamespaceObjects> {
    const counts = new Map<string, number>();
    for (const name of names) {
      const counted = name.startsWith('count/') ? name.slice('count/'.length) : name;
      if (counts.has(counted)) continue;
      const [resource = '', ...groupParts] = counted.split('.');
      const group = groupParts.join('.');
      if (group === '' && this.listers[resource] !== undefined) {
        const list = this.listers[resource]?.namespace(namespace).list() ?? [];
        counts.set(counted, resource === 'pods' ? list.length : list.length);
        continue;
      }
      if (!name.startsWith('count/')) continue;
      // Resources without an informer here are counted by listing them (rare, small).
      const info = preferredResources().find(
        (r) => r.group === group && r.plural === resource && r.namespaced,
      );
      if (info === undefined) continue;
      try {
        const list = await this.client.resource(gvr(info.group, info.version, info.plural)).list(namespace);
        counts.set(counted, list.items.length);
      } catch (err) {
        this.log.debug('counting resource failed', { resource: counted, error: String(err) });
      }
    }
    return {
      pods: this.pods.namespace(namespace).list(),
      services: this.services.namespace(namespace).list(),
      pvcs: this.pvcs.namespace(namespace).list(),
      counts,
    };
  }
}

function quantitiesEqual(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) {
    const x = a?.[k];
    const y = b[k];
    if (x === undefined || y === undefined) return false;
    try {
      if (parseQuantity(x).cmp(parseQuantity(y)) !== 0) return false;
    } catch {
      if (x !== y) return false;
    }
  }
  return true;
}
