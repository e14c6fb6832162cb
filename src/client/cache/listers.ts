// Listers read an informer's cache (client-go listers): list by label selector across
// all namespaces or within one (using the namespace index, not a scan), and get by name.
// They return the cached objects themselves: read-only, copy before modifying.
import { everything, parseSelector, type Selector } from '../../machinery/labels/selector.js';
import { notFound } from '../../machinery/status-error.js';
import type { GroupVersionResource, KubeObject } from '../interface.js';
import { type Indexer, NAMESPACE_INDEX } from './indexer.js';

/** A label selector or its string form. */
export type SelectorLike = Selector | string | undefined;

function toSelector(s: SelectorLike): Selector {
  if (s === undefined || s === '') return everything();
  return typeof s === 'string' ? parseSelector(s) : s;
}

function filter<T extends KubeObject>(objs: Iterable<T>, selector: Selector): T[] {
  const out: T[] = [];
  if (selector.empty()) {
    for (const o of objs) out.push(o);
    return out;
  }
  for (const o of objs) if (selector.matches(o.metadata?.labels)) out.push(o);
  return out;
}

/** Reads objects of one namespace from the cache. */
export class NamespaceLister<T extends KubeObject> {
  /** A lister of `namespace` in `indexer`. */
  constructor(
    private readonly indexer: Indexer<T>,
    private readonly resource: GroupVersionResource,
    readonly namespace: string,
  ) {}

  /** Objects in the namespace matching the selector. */
  list(selector?: SelectorLike): T[] {
    return filter(this.indexer.byIndex(NAMESPACE_INDEX, this.namespace), toSelector(selector));
  }

  /** The object, or a NotFound StatusError (as upstream listers return). */
  get(name: string): T {
    const obj = this.tryGet(name);
    if (obj === undefined)
      throw notFound({ group: this.resource.group, resource: this.resource.resource }, name);
    return obj;
  }

  /** The object, or undefined. */
  tryGet(name: string): T | undefined {
    return this.indexer.getByKey(this.namespace === '' ? name : `${this.namespace}/${name}`);
  }
}

/** Reads objects of one resource from an informer's cache. */
export class Lister<T extends KubeObject> {
  /** A lister over `indexer`. */
  constructor(
    private readonly indexer: Indexer<T>,
    private readonly resource: GroupVersionResource,
  ) {}

  /** Every object matching the selector (all namespaces). */
  list(selector?: SelectorLike): T[] {
    return filter(this.indexer.list(), toSelector(selector));
  }

  /** The lister of one namespace ('' for cluster-scoped objects). */
  namespace(namespace: string): NamespaceLister<T> {
    return new NamespaceLister<T>(this.indexer, this.resource, namespace);
  }

  /** A cluster-scoped object by name, or NotFound. */
  get(name: string): T {
    return this.namespace('').get(name);
  }

  /** An object by `namespace/name` key, or undefined. */
  getByKey(key: string): T | undefined {
    return this.indexer.getByKey(key);
  }

  /** Objects whose named index has `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexer.byIndex(indexName, value);
  }
}
