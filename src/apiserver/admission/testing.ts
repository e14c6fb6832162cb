// A small in-memory cluster for admission tests: Stores on MemoryStorage with the real
// defaulting and validation, a way to seed objects without admission, and a way to write
// through an admission chain exactly as the API server will (the Store calls the hooks).
import type { UserInfo } from '../endpoints/scope.js';
import { defaultHooks } from '../hooks.js';
import type { KObject } from '../registry/object.js';
import type { WriteOptions } from '../registry/store.js';
import { StoreRegistry } from '../stores.js';
import { MemoryStorage } from '../../storage/memory.js';
import type { AdmissionChain } from './chain.js';

/** The admin user of tests. */
export const ADMIN: UserInfo = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };

/** An in-memory cluster with an optional admission chain. */
export class AdmissionFixture {
  readonly storage = new MemoryStorage();
  readonly stores = new StoreRegistry(this.storage, defaultHooks());
  /** Warnings collected from the last admitted write. */
  warnings: string[] = [];

  /** Writes without admission (seeding). */
  async seed(group: string, plural: string, obj: KObject): Promise<KObject> {
    const ns = obj.metadata?.namespace ?? '';
    return this.stores.byName(group, plural).create(ns, structuredClone(obj), this.wo());
  }

  /** Creates through the chain as `user`. */
  async create(
    chain: AdmissionChain,
    group: string,
    plural: string,
    obj: KObject,
    opts: { user?: UserInfo; dryRun?: boolean } = {},
  ): Promise<KObject> {
    const store = this.stores.byName(group, plural);
    const ns = store.resource.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
    this.warnings = [];
    const wo = this.wo(opts.dryRun ?? false);
    wo.admission = chain.hooksFor({
      operation: 'CREATE',
      resource: store.resource,
      subresource: '',
      namespace: ns,
      name: '',
      user: opts.user ?? ADMIN,
      dryRun: opts.dryRun ?? false,
      warn: (m) => this.warnings.push(m),
    });
    return store.create(ns, structuredClone(obj), wo);
  }

  /** Replaces an object through the chain as `user`. */
  async update(
    chain: AdmissionChain,
    group: string,
    plural: string,
    obj: KObject,
    opts: { user?: UserInfo; subresource?: string } = {},
  ): Promise<KObject> {
    const store = this.stores.byName(group, plural);
    const ns = store.resource.namespaced ? (obj.metadata?.namespace ?? 'default') : '';
    const name = obj.metadata?.name ?? '';
    this.warnings = [];
    const wo = this.wo(false, opts.subresource ?? '');
    wo.admission = chain.hooksFor({
      operation: 'UPDATE',
      resource: store.resource,
      subresource: opts.subresource ?? '',
      namespace: ns,
      name,
      user: opts.user ?? ADMIN,
      dryRun: false,
      warn: (m) => this.warnings.push(m),
    });
    return (await store.update(ns, name, structuredClone(obj), wo, opts.subresource === 'status')).obj;
  }

  /** Deletes through the chain as `user`. */
  async delete(
    chain: AdmissionChain,
    group: string,
    plural: string,
    namespace: string,
    name: string,
    user: UserInfo = ADMIN,
  ): Promise<void> {
    const store = this.stores.byName(group, plural);
    const wo = this.wo();
    wo.admission = chain.hooksFor({
      operation: 'DELETE',
      resource: store.resource,
      subresource: '',
      namespace,
      name,
      user,
      dryRun: false,
    });
    await store.delete(namespace, name, {}, wo);
  }

  /** Stops caches and storage. */
  async close(): Promise<void> {
    this.stores.close();
    await this.storage.close();
  }

  private wo(dryRun = false, subresource = ''): WriteOptions {
    return { dryRun, fieldManager: 'test', subresource, warnings: [] };
  }
}

/** A namespace object. */
export function namespace(name: string, labels?: Record<string, string>): KObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } };
}

/** A minimal pod. */
export function pod(
  name: string,
  ns = 'default',
  containers: Array<Record<string, unknown>> = [{ name: 'c', image: 'nginx' }],
  spec: Record<string, unknown> = {},
): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers, ...spec } };
}
