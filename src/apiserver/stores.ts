// One generic Store per stored resource, created on first use; custom resources get one
// per served version (objects read at that version, written at the storage version), and
// a new one when their CRD changes. Virtual resources (reviews, bindings, component
// statuses) have no store.
import type { ResourceInfo } from '../api/registry-types.js';
import type { ServedCustomResource } from '../apiextensions/registry.js';
import { customResourceStore } from '../apiextensions/custom-resource-store.js';
import type { Storage } from '../storage/storage.js';
import { type ObjectHooks, Store } from './registry/store.js';
import { strategyFor } from './registry/strategies.js';
import type { Strategy } from './registry/strategy.js';
import { ServedAPIs } from './served.js';

const VIRTUAL = new Set([
  '/bindings',
  '/componentstatuses',
  'authentication.k8s.io/tokenreviews',
  'authentication.k8s.io/selfsubjectreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews',
]);

/** True for resources answered without storage. */
export function isVirtual(r: ResourceInfo): boolean {
  return VIRTUAL.has(`${r.group}/${r.plural}`);
}

/** Creates and holds the Stores of one API server. */
export class StoreRegistry {
  private readonly stores = new Map<string, Store>();

  private readonly custom = new Map<string, Store>();

  constructor(
    private readonly storage: Storage,
    private readonly hooks: ObjectHooks,
    private readonly strategyOverride: (r: ResourceInfo) => Strategy | undefined = () => undefined,
    /** What this API server serves (built-ins plus its custom resources). */
    readonly served: ServedAPIs = new ServedAPIs(),
  ) {
    // Stores of custom resources that are no longer served (or changed) stop their caches.
    served.onChange(() => {
      for (const [k, st] of this.custom) {
        const r = st.resource;
        if (this.served.customResource(r.group, r.version, r.plural)?.info !== r) {
          st.cache.close('the resource definition changed');
          this.custom.delete(k);
        }
      }
    });
  }

  /** The Store of one served version of a custom resource. */
  customStore(entry: ServedCustomResource): Store {
    const r = entry.info;
    const key = `${r.group}/${r.version}/${r.plural}`;
    let s = this.custom.get(key);
    if (s?.resource !== r) {
      s?.cache.close('the resource definition changed');
      s = customResourceStore(entry, this.storage);
      this.custom.set(key, s);
    }
    return s;
  }

  /** The Store of a served, stored resource. */
  get(r: ResourceInfo): Store {
    const entry = this.served.customResource(r.group, r.version, r.plural);
    if (entry?.info === r) return this.customStore(entry);
    const key = `${r.group}/${r.plural}`;
    let s = this.stores.get(key);
    if (!s) {
      s = new Store(this.strategyOverride(r) ?? strategyFor(r), this.storage, this.hooks);
      this.stores.set(key, s);
    }
    return s;
  }

  /** The Store of group/plural at its served version (throws when not served). */
  byName(group: string, plural: string): Store {
    const r = this.served.resources().find((x) => x.group === group && x.plural === plural);
    if (!r) throw new Error(`resource ${plural}.${group} is not served`);
    return this.get(r);
  }

  /** The served resource at group/version/plural. */
  resource(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.served.resource(group, version, plural);
  }

  /** Stops every watch cache. */
  close(): void {
    for (const s of this.stores.values()) s.cache.close();
    for (const s of this.custom.values()) s.cache.close();
  }
}
