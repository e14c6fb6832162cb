// A Store with secondary indices (client-go's Indexer over a ThreadSafeStore): each named
// index function maps an object to index values (its namespace, its node name, its owner's
// uid), and `byIndex(name, value)` returns the objects with that value without scanning
// the store. Indices are maintained on every add/update/delete, so lookups stay O(result).
import type { KubeObject } from '../interface.js';
import { type KeyFunc, metaNamespaceKeyFunc, type Store } from './store.js';

/** Maps an object to the values it is indexed under. */
export type IndexFunc<T> = (obj: T) => string[];

/** Named index functions. */
export type Indexers<T> = Record<string, IndexFunc<T>>;

/** The name of the namespace index. */
export const NAMESPACE_INDEX = 'namespace';

/** Indexes an object by its namespace (MetaNamespaceIndexFunc). */
export function metaNamespaceIndexFunc(obj: KubeObject): string[] {
  return [obj.metadata?.namespace ?? ''];
}

/** A keyed store with indices. */
export class Indexer<T> implements Store<T> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  // index name → index value → keys
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  /** An indexer keyed by `keyFunc` with the given indices. */
  constructor(
    private readonly keyFunc: KeyFunc<T>,
    indexers: Indexers<T> = {},
  ) {
    this.addIndexers(indexers);
  }

  /** Adds index functions; existing objects are indexed right away. Names must be new. */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) addToIndex(index, fn(obj), key);
    }
  }

  add(obj: T): void {
    const key = this.keyFunc(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.updateIndices(old, obj, key);
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    this.deleteByKey(this.keyFunc(obj));
  }

  /** Removes a key. */
  deleteByKey(key: string): void {
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.updateIndices(old, undefined, key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** True when the key is stored. */
  has(key: string): boolean {
    return this.items.has(key);
  }

  replace(items: T[], _resourceVersion: string): void {
    this.items.clear();
    for (const index of this.indices.values()) index.clear();
    for (const obj of items) {
      const key = this.keyFunc(obj);
      this.items.set(key, obj);
      this.updateIndices(undefined, obj, key);
    }
  }

  size(): number {
    return this.items.size;
  }

  /** Objects sharing any index value with obj under the named index. */
  index(indexName: string, obj: T): T[] {
    const fn = this.indexFunc(indexName);
    const index = this.indices.get(indexName) as Map<string, Set<string>>;
    const keys = new Set<string>();
    for (const v of fn(obj)) for (const k of index.get(v) ?? []) keys.add(k);
    return this.objectsOf(keys);
  }

  /** Objects whose named index includes `value`. */
  byIndex(indexName: string, value: string): T[] {
    this.indexFunc(indexName);
    return this.objectsOf(this.indices.get(indexName)?.get(value) ?? new Set());
  }

  /** Keys of objects whose named index includes `value`. */
  indexKeys(indexName: string, value: string): string[] {
    this.indexFunc(indexName);
    return [...(this.indices.get(indexName)?.get(value) ?? [])];
  }

  /** Every value present in the named index. */
  listIndexFuncValues(indexName: string): string[] {
    this.indexFunc(indexName);
    return [...(this.indices.get(indexName)?.keys() ?? [])];
  }

  /** The registered index functions. */
  getIndexers(): Indexers<T> {
    return Object.fromEntries(this.indexers);
  }

  private indexFunc(name: string): IndexFunc<T> {
    const fn = this.indexers.get(name);
    if (fn === undefined) throw new Error(`Index with name ${name} does not exist`);
    return fn;
  }

  private objectsOf(keys: Iterable<string>): T[] {
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  private updateIndices(old: T | undefined, cur: T | undefined, key: string): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name) as Map<string, Set<string>>;
      const oldValues = old !== undefined ? fn(old) : [];
      const newValues = cur !== undefined ? fn(cur) : [];
      // The common case (an update that keeps the index value) touches nothing.
      if (oldValues.length === 1 && newValues.length === 1 && oldValues[0] === newValues[0]) continue;
      removeFromIndex(index, oldValues, key);
      addToIndex(index, newValues, key);
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    let set = index.get(v);
    if (set === undefined) {
      set = new Set();
      index.set(v, set);
    }
    set.add(key);
  }
}

function removeFromIndex(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    const set = index.get(v);
    if (set === undefined) continue;
    set.delete(key);
    // Drop empty sets so an index over short-lived values (pod uids) does not grow forever.
    if (set.size === 0) index.delete(v);
  }
}

/** A store indexed by namespace, keyed `namespace/name` (the informer default). */
export function newNamespaceIndexer<T extends KubeObject>(extra: Indexers<T> = {}): Indexer<T> {
  return new Indexer<T>(metaNamespaceKeyFunc, { [NAMESPACE_INDEX]: metaNamespaceIndexFunc, ...extra });
}
