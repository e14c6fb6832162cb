// The keyed object store of an informer's cache (client-go tools/cache Store): objects
// keyed `namespace/name` (or `name` when cluster-scoped). Node runs one thread, so the
// store needs no locks; it is "thread-safe in spirit" because every mutation is one
// synchronous step that no reader can observe half-done. Stored objects are shared with
// every consumer without copying: treat them as read-only, copy before modifying.
import type { KubeObject } from '../interface.js';

/** Computes an object's key. */
export type KeyFunc<T> = (obj: T) => string;

/**
 * The last known state of an object whose deletion was missed (the watch broke and a relist
 * no longer contained it). Delete handlers receive it instead of the object; the object may
 * be stale.
 */
export class DeletedFinalStateUnknown<T> {
  /** A tombstone for `key` holding the last state we saw. */
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

/** `namespace/name`, or `name` for a cluster-scoped object (MetaNamespaceKeyFunc). */
export function metaNamespaceKeyFunc(obj: KubeObject): string {
  const m = obj.metadata;
  const name = m?.name ?? '';
  const ns = m?.namespace ?? '';
  return ns === '' ? name : `${ns}/${name}`;
}

/** The key of an object or of a tombstone (DeletionHandlingMetaNamespaceKeyFunc). */
export function deletionHandlingKeyFunc<T extends KubeObject>(obj: T | DeletedFinalStateUnknown<T>): string {
  return obj instanceof DeletedFinalStateUnknown ? obj.key : metaNamespaceKeyFunc(obj);
}

/** Splits a `namespace/name` key; throws on more than one '/' (SplitMetaNamespaceKey). */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  if (i < 0) return { namespace: '', name: key };
  if (key.indexOf('/', i + 1) >= 0) throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The object from a delete notification, unwrapping a tombstone. */
export function unwrapTombstone<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

/** A keyed collection of objects. */
export interface Store<T> {
  /** Inserts or replaces obj under its key. */
  add(obj: T): void;
  /** Same as add (kept for client-go's vocabulary). */
  update(obj: T): void;
  /** Removes obj's key. */
  delete(obj: T): void;
  /** Every object (a fresh array; the objects are shared). */
  list(): T[];
  /** Every key. */
  listKeys(): string[];
  /** The stored object with obj's key. */
  get(obj: T): T | undefined;
  /** The stored object with this key. */
  getByKey(key: string): T | undefined;
  /** Replaces the whole contents with items (after a list). */
  replace(items: T[], resourceVersion: string): void;
  /** Number of objects. */
  size(): number;
}
