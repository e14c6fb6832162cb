// One informer per resource for a whole process (client-go SharedInformerFactory): every
// controller asking for pods gets the same informer, so the API server sees one list and
// one watch per resource however many consumers there are. Informers requested after
// `start` are started on the next `start` call, as upstream (call start again after
// wiring late consumers).
import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock.js';
import type { Client, KubeObject, TypedGVR } from '../interface.js';
import type { Logger } from '../log.js';
import type { Indexers } from './indexer.js';
import { Lister } from './listers.js';
import { SharedIndexInformer } from './shared-informer.js';

/** Options shared by every informer of a factory. */
export interface InformerFactoryOptions {
  /** Default handler resync period in ms (0: never). */
  defaultResyncMs?: number;
  /** Restrict every informer to one namespace ('' for all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  clock?: Clock;
  logger?: Logger;
  /** Drop `metadata.managedFields` from cached objects (saves memory; default true). */
  stripManagedFields?: boolean;
}

/** An informer together with its lister. */
export interface InformerHandle<T extends KubeObject> {
  informer: SharedIndexInformer<T>;
  lister: Lister<T>;
}

function gvrKey(r: { group: string; version: string; resource: string }): string {
  return `${r.group}/${r.version}/${r.resource}`;
}

function stripManagedFields<T extends KubeObject>(obj: T): T {
  // Mutates the freshly decoded object in place: it is not shared yet, so no copy is needed.
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

/** Creates and shares informers. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedIndexInformer<KubeObject>>();
  private readonly running = new Map<string, Promise<void>>();
  private signal: AbortSignal | undefined;

  /** A factory over `client`. */
  constructor(
    private readonly client: Client,
    private readonly opts: InformerFactoryOptions = {},
  ) {}

  /** The shared informer (and lister) of a resource, created on first use. */
  forResource<T extends KubeObject>(gvr: TypedGVR<T>, indexers?: Indexers<T>): InformerHandle<T> {
    const key = gvrKey(gvr);
    let inf = this.informers.get(key) as SharedIndexInformer<T> | undefined;
    if (inf === undefined) {
      inf = new SharedIndexInformer<T>(this.client.resource<T>(gvr), {
        ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
        ...(this.opts.labelSelector !== undefined ? { labelSelector: this.opts.labelSelector } : {}),
        ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
        ...(this.opts.clock !== undefined ? { clock: this.opts.clock } : {}),
        ...(this.opts.logger !== undefined ? { logger: this.opts.logger } : {}),
        resyncPeriodMs: this.opts.defaultResyncMs ?? 0,
        ...(this.opts.stripManagedFields !== false ? { transform: stripManagedFields<T> } : {}),
      });
      this.informers.set(key, inf as unknown as SharedIndexInformer<KubeObject>);
    }
    if (indexers !== undefined) {
      const existing = inf.getIndexer().getIndexers();
      const missing = Object.fromEntries(Object.entries(indexers).filter(([n]) => !(n in existing)));
      inf.addIndexers(missing);
    }
    return { informer: inf, lister: new Lister<T>(inf.getIndexer(), gvr) };
  }

  /** Starts every informer not yet running; they stop when the signal aborts. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    const pending = [...this.informers].filter(([key]) => !this.running.has(key));
    if (pending.length === 0) return;
    // The informers share one child signal, so the caller's signal gets one listener per
    // start however many resources are watched. Each informer keeps a few listeners on the
    // child while it lists and watches: bounded by the number of resources, not a leak.
    const scope = new AbortController();
    setMaxListeners(0, scope.signal);
    if (signal.aborted) scope.abort(signal.reason);
    else signal.addEventListener('abort', () => scope.abort(signal.reason), { once: true });
    for (const [key, inf] of pending) this.running.set(key, inf.run(scope.signal));
  }

  /**
   * Waits until every started informer has synced; resolves to each resource's result
   * (`group/version/resource` → synced), false for those the signal cut short.
   */
  async waitForCacheSync(signal?: AbortSignal): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    const s = signal ?? this.signal;
    const abort = abortedAsFalse(s);
    try {
      await Promise.all(
        [...this.informers].map(async ([key, inf]) => {
          if (!this.running.has(key)) return;
          out[key] = s?.aborted === true ? false : await Promise.race([inf.waitForSync(), abort.promise]);
        }),
      );
    } finally {
      abort.dispose();
    }
    return out;
  }

  /** Resolves once every started informer has stopped (after the start signal aborted). */
  async shutdown(): Promise<void> {
    await Promise.all(this.running.values());
  }
}

/**
 * Resolves true once every check passes, false when the signal aborts (cache.WaitForCacheSync).
 * The signal gets one listener however many informers are waited for: the GC waits for
 * dozens, and one listener each would trip node's leak warning on a shared signal.
 */
export async function waitForCacheSync(
  signal: AbortSignal,
  ...informers: Array<{ waitForSync(signal?: AbortSignal): Promise<boolean> }>
): Promise<boolean> {
  if (signal.aborted) return false;
  const abort = abortedAsFalse(signal);
  try {
    const all = Promise.all(informers.map((i) => i.waitForSync())).then((rs) => rs.every((r) => r));
    return await Promise.race([all, abort.promise]);
  } finally {
    abort.dispose();
  }
}

// A promise that resolves false when the signal aborts (never without a signal), with one
// listener that `dispose` removes.
function abortedAsFalse(signal: AbortSignal | undefined): { promise: Promise<false>; dispose(): void } {
  if (signal === undefined) return { promise: new Promise<false>(() => {}), dispose: () => {} };
  let onAbort: () => void = () => {};
  const promise = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    if (signal.aborted) resolve(false);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}
