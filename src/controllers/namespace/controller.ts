// The namespace controller: when a namespace has a deletionTimestamp and still carries the
// `kubernetes` finalizer, it deletes every namespaced resource in it (deletecollection
// where served, else list + delete), reports progress in the namespace's status
// conditions as upstream does (NamespaceDeletionDiscoveryFailure, …ContentFailure,
// NamespaceContentRemaining, NamespaceFinalizersRemaining), and once nothing is left
// removes `kubernetes` from spec.finalizers through the `finalize` subresource, after
// which the API server deletes the namespace. While content remains (pods terminating,
// finalizers pending) the namespace is looked at again shortly.
import type { Namespace, NamespaceCondition } from '../../api/generated/types/core-v1.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import { waitForCacheSync } from '../../client/cache/informer-factory.js';
import type { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import type { Clock } from '../../client/clock.js';
import { type Client, gvr, type KubeObject, type ResourceClient } from '../../client/interface.js';
import { errorText, type Logger } from '../../client/log.js';
import { NAMESPACES } from '../../client/resources.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import { isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../manager.js';
import type { Controller, ControllerContext } from '../types.js';

/** The finalizer the namespace controller owns. */
export const FINALIZER_KUBERNETES = 'kubernetes';

/** How soon a namespace with remaining content is looked at again. */
export const CONTENT_REMAINING_RECHECK_MS = 1000;

const OK: Record<string, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: {
    reason: 'ResourcesDiscovered',
    message: 'All resources successfully discovered',
  },
  NamespaceDeletionGroupVersionParsingFailure: {
    reason: 'ParsedGroupVersions',
    message: 'All legacy kube types successfully parsed',
  },
  NamespaceDeletionContentFailure: {
    reason: 'ContentDeleted',
    message: 'All content successfully deleted, may be waiting on finalization',
  },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: {
    reason: 'ContentHasNoFinalizers',
    message: 'All content-preserving finalizers finished',
  },
};

/** What deleting a namespace's content found. */
export interface ContentResult {
  /** `resource[.group]` → objects still present. */
  remaining: Map<string, number>;
  /** finalizer → objects still carrying it. */
  finalizers: Map<string, number>;
  errors: string[];
}

/** The namespaced resources a namespace's deletion empties. */
export function deletableNamespacedResources(resources: readonly ResourceInfo[]): ResourceInfo[] {
  return resources.filter(
    (r) =>
      r.namespaced &&
      r.verbs.includes('list') &&
      (r.verbs.includes('deletecollection') || r.verbs.includes('delete')),
  );
}

/** The status conditions for a content deletion result (upstream's condition updater). */
export function namespaceConditions(
  prev: readonly NamespaceCondition[],
  result: ContentResult,
  now: number,
): NamespaceCondition[] {
  const want = new Map<string, { status: string; reason: string; message: string }>();
  for (const [type, ok] of Object.entries(OK)) want.set(type, { status: 'False', ...ok });
  if (result.errors.length > 0) {
    want.set('NamespaceDeletionContentFailure', {
      status: 'True',
      reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${result.errors.length} remaining: ${
        result.errors.length === 1 ? result.errors[0] : `[${result.errors.join(', ')}]`
      }`,
    });
  }
  if (result.remaining.size > 0) {
    const parts = [...result.remaining].map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
    want.set('NamespaceContentRemaining', {
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: `Some resources are remaining: ${parts.join(', ')}`,
    });
  }
  if (result.finalizers.size > 0) {
    const parts = [...result.finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
    want.set('NamespaceFinalizersRemaining', {
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}`,
    });
  }
  const out: NamespaceCondition[] = prev.filter((c) => !want.has(c.type)).map((c) => ({ ...c }));
  for (const [type, w] of want) {
    const old = prev.find((c) => c.type === type);
    if (
      old !== undefined &&
      old.status === w.status &&
      old.reason === w.reason &&
      old.message === w.message
    ) {
      out.push({ ...old });
    } else {
      out.push({
        type,
        status: w.status,
        lastTransitionTime: formatTimestamp(now),
        reason: w.reason,
        message: w.message,
      });
    }
  }
  return out;
}

/** Empties and finalizes terminating namespaces. */
export class NamespaceController implements Controller {
  readonly name = 'namespace';
  /** Names of namespaces to sync. */
  readonly queue: RateLimitingQueue<string>;
  /** The reconcile function (replaceable in tests). */
  syncHandler: (name: string) => Promise<void>;
  private readonly nsInformer: SharedIndexInformer<Namespace>;
  private readonly namespaces: ResourceClient<Namespace>;
  private readonly resources: ResourceInfo[];
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;

  /**
   * A controller deleting the content of `resources` (normally every built-in resource) and
   * of what `discover` finds when a namespace is deleted (custom resources, learnt through
   * the client: they come and go while the controller runs).
   */
  constructor(
    ctx: ControllerContext,
    resources: readonly ResourceInfo[],
    private readonly discover: () => Promise<readonly ResourceInfo[]> = async () => [],
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.workers = ctx.options.workers;
    this.queue = new RateLimitingQueue<string>({ clock: ctx.clock, name: 'namespace' });
    const ns = ctx.informers.forResource(NAMESPACES);
    this.nsInformer = ns.informer;
    this.namespaces = ctx.client.resource(NAMESPACES);
    this.resources = deletableNamespacedResources(resources);
    this.syncHandler = (name) => this.sync(name);
  }

  run(signal: AbortSignal): Promise<void> {
    const enqueue = (n: Namespace): void => {
      if (n.metadata?.deletionTimestamp !== undefined) this.queue.add(n.metadata.name ?? '');
    };
    const reg = this.nsInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, c) => enqueue(c) });
    return runWorkers({
      queue: this.queue,
      sync: (name) => this.syncHandler(name),
      workers: this.workers,
      signal,
      log: this.log,
      name: this.name,
      ready: () => waitForCacheSync(signal, this.nsInformer),
    }).finally(() => reg.remove());
  }

  /** Deletes a terminating namespace's content and finalizes it when empty. */
  async sync(name: string): Promise<void> {
    let ns: Namespace;
    try {
      ns = await this.namespaces.get('', name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (ns.metadata?.deletionTimestamp === undefined) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const result = await this.deleteAllContent(name);
    ns = await this.updateConditions(ns, result);
    if (result.errors.length > 0) throw new Error(result.errors.join('; '));
    if (result.remaining.size > 0) {
      this.log.debug('namespace content remaining', {
        namespace: name,
        remaining: Object.fromEntries(result.remaining),
      });
      this.queue.addAfter(name, CONTENT_REMAINING_RECHECK_MS);
      return;
    }
    const finalized: Namespace = {
      ...ns,
      spec: {
        ...(ns.spec ?? {}),
        finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES),
      },
    };
    try {
      await this.namespaces.update('', finalized, { subresource: 'finalize' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Deletes every namespaced object of the namespace, then counts what is left. */
  async deleteAllContent(namespace: string): Promise<ContentResult> {
    const result: ContentResult = { remaining: new Map(), finalizers: new Map(), errors: [] };
    let resources = this.resources;
    try {
      const known = new Set(resources.map((r) => `${r.group}/${r.plural}`));
      const extra: ResourceInfo[] = [];
      // One version per resource: the first discovered is the preferred one.
      for (const r of deletableNamespacedResources(await this.discover())) {
        const k = `${r.group}/${r.plural}`;
        if (known.has(k)) continue;
        known.add(k);
        extra.push(r);
      }
      if (extra.length > 0) resources = [...resources, ...extra];
    } catch (err) {
      result.errors.push(`discovery: ${errorText(err)}`);
    }
    await Promise.all(
      resources.map(async (r) => {
        const client = this.client.resource<KubeObject>(gvr(r.group, r.version, r.plural));
        const gr = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
        try {
          if (r.verbs.includes('deletecollection')) await client.deleteCollection(namespace);
          else {
            const list = await client.list(namespace);
            for (const o of list.items) {
              if (o.metadata?.deletionTimestamp !== undefined) continue;
              await client.delete(namespace, o.metadata?.name ?? '').catch((err: unknown) => {
                if (!isNotFound(err)) throw err;
              });
            }
          }
          const left = await client.list(namespace);
          if (left.items.length === 0) return;
          result.remaining.set(gr, left.items.length);
          for (const o of left.items) {
            for (const f of o.metadata?.finalizers ?? [])
              result.finalizers.set(f, (result.finalizers.get(f) ?? 0) + 1);
          }
        } catch (err) {
          if (isNotFound(err)) return;
          result.errors.push(`${gr}: ${errorText(err)}`);
        }
      }),
    );
    return result;
  }

  private async updateConditions(ns: Namespace, result: ContentResult): Promise<Namespace> {
    const prev = ns.status?.conditions ?? [];
    const next = namespaceConditions(prev, result, this.clock.now());
    if (JSON.stringify(prev) === JSON.stringify(next)) return ns;
    try {
      return await this.namespaces.updateStatus('', {
        ...ns,
        status: { ...(ns.status ?? {}), conditions: next },
      });
    } catch (err) {
      // The conditions are informational: a conflict is retried on the next pass.
      this.log.debug('namespace status update failed', {
        namespace: ns.metadata?.name,
        error: errorText(err),
      });
      return ns;
    }
  }
}
