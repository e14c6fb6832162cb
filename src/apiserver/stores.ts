// One generic Store per stored resource, created on first use. Virtual resources (reviews,
// bindings, component statuses) have no store.
import type { ResourceInfo } from '../api/registry-types.js';
import type { Storage } from '../storage/storage.js';
import { type ObjectHooks, Store } from './registry/store.js';
import { strategyFor } from './registry/strategies.js';
import type { Strategy } from './registry/strategy.js';
import { servedResource, servedResources } from './served.js';

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

  constructor(
    private readonly storage: Storage,
    private readonly hooks: ObjectHooks,
    private readonly strategyOverride: (r: ResourceInfo) => Strategy | undefined = () => undefined,
  ) {}

  /** The Store of a served, stored resource. */
  get(r: ResourceInfo): Store {
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
    const r = servedResources().find((x) => x.group === group && x.plural === plural);
    if (!r) throw new Error(`resource ${plural}.${group} is not served`);
    return this.get(r);
  }

  /** The served resource at group/version/plural. */
  resource(group: string, version: string, plural: string): ResourceInfo | undefined {
    return servedResource(group, version, plural);
  }

  /** Stops every watch cache. */
  close(): void {
    for (const s of this.stores.values()) s.cache.close();
  }
}
