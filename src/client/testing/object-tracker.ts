// The in-memory API behind the fake client (client-go testing.ObjectTracker, with a watch
// history): objects per resource keyed `namespace/name`, one global resourceVersion
// counter, and per-resource event history so a watch can resume from a resourceVersion.
// `compact()` drops history, so a later watch from an older resourceVersion gets the 410
// Expired error a real server gives; `expireWatches()` ends every open watch with that
// error, as a server whose watch cache restarted does.
import { resourceFor } from '../../api/registry.js';
import { parseFieldSelector } from '../../machinery/fields/field-selector.js';
import { parseSelector } from '../../machinery/labels/selector.js';
import { formatTimestamp, generateName, newUID } from '../../machinery/object-meta.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  resourceExpired,
  type StatusError,
} from '../../machinery/status-error.js';
import type { GroupVersionResource, KubeObject, ListOptions, ObjectList, WatchEvent } from '../interface.js';

/** Information the tracker needs about a resource. */
export interface TrackedResource {
  kind: string;
  namespaced: boolean;
}

interface HistoryEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  obj: KubeObject;
  prev?: KubeObject;
}

interface Watcher {
  namespace: string;
  match: (o: KubeObject) => boolean;
  push: (ev: WatchEvent<KubeObject>) => void;
  close: () => void;
}

interface Bucket {
  objects: Map<string, KubeObject>;
  history: HistoryEvent[];
  /** Watches may resume from any resourceVersion >= this. */
  oldestRV: number;
  watchers: Set<Watcher>;
}

const MAX_HISTORY = 10_000;

function gvrKey(r: GroupVersionResource): string {
  return `${r.group}/${r.version}/${r.resource}`;
}

function objKey(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}/${name}`;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Reads a dotted field path (`spec.nodeName`) as a field selector value. */
function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

/** Builds a matcher for list/watch selectors. */
export function selectorMatcher(opts: ListOptions): (o: KubeObject) => boolean {
  const labels = opts.labelSelector ? parseSelector(opts.labelSelector) : undefined;
  const fields = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector) : undefined;
  if (labels === undefined && fields === undefined) return () => true;
  return (o) => {
    if (labels !== undefined && !labels.matches(o.metadata?.labels)) return false;
    if (fields !== undefined) {
      const f: Record<string, string> = {};
      for (const r of fields.requirements()) f[r.field] = fieldValue(o, r.field);
      if (!fields.matches(f)) return false;
    }
    return true;
  };
}

/** In-memory objects with resourceVersions and watch history. */
export class ObjectTracker {
  private rv = 0;
  private readonly buckets = new Map<string, Bucket>();

  /** The current (last written) resourceVersion. */
  currentRV(): number {
    return this.rv;
  }

  /** Kind and scope of a resource (from the API registry; namespaced kinds otherwise). */
  info(r: GroupVersionResource): TrackedResource {
    const info = resourceFor(r.group, r.version, r.resource);
    return { kind: info?.kind ?? '', namespaced: info?.namespaced ?? true };
  }

  /** Stores a new object (generateName, uid, timestamps and resourceVersion filled in). */
  create<T extends KubeObject>(r: GroupVersionResource, namespace: string, input: T): T {
    const obj = clone(input);
    if (obj.metadata === undefined) obj.metadata = {};
    const meta = obj.metadata;
    const info = this.info(r);
    if (info.namespaced) {
      if (namespace === '' && (meta.namespace ?? '') === '')
        throw badRequest('the namespace of the provided object is empty');
      meta.namespace = namespace !== '' ? namespace : meta.namespace;
    } else delete meta.namespace;
    if ((meta.name ?? '') === '' && meta.generateName) meta.name = generateName(meta.generateName);
    const name = meta.name ?? '';
    if (name === '') throw badRequest('name or generateName is required');
    const b = this.bucket(r);
    const key = objKey(meta.namespace ?? '', name);
    if (b.objects.has(key)) throw alreadyExists({ group: r.group, resource: r.resource }, name);
    meta.uid ??= newUID();
    meta.creationTimestamp ??= formatTimestamp();
    meta.generation ??= 1;
    meta.resourceVersion = String(++this.rv);
    this.setTypeMeta(r, obj);
    b.objects.set(key, obj);
    this.record(b, { type: 'ADDED', rv: this.rv, obj });
    return clone(obj);
  }

  /** Replaces an object, checking resourceVersion when the input carries one. */
  update<T extends KubeObject>(r: GroupVersionResource, namespace: string, input: T, statusOnly = false): T {
    const name = input.metadata?.name ?? '';
    const b = this.bucket(r);
    const ns = this.info(r).namespaced ? namespace || (input.metadata?.namespace ?? '') : '';
    const key = objKey(ns, name);
    const old = b.objects.get(key);
    if (old === undefined) throw notFound({ group: r.group, resource: r.resource }, name);
    const wantRV = input.metadata?.resourceVersion;
    if (wantRV !== undefined && wantRV !== '' && wantRV !== old.metadata?.resourceVersion) {
      throw conflict({ group: r.group, resource: r.resource }, name, OPTIMISTIC_LOCK_MESSAGE);
    }
    let obj: KubeObject;
    if (statusOnly) {
      obj = clone(old);
      (obj as Record<string, unknown>).status = clone((input as Record<string, unknown>).status);
    } else {
      obj = clone(input);
      if (obj.metadata === undefined) obj.metadata = {};
      const meta = obj.metadata;
      meta.uid = old.metadata?.uid;
      meta.creationTimestamp = old.metadata?.creationTimestamp;
      if (ns !== '') meta.namespace = ns;
      const changed = JSON.stringify(specOf(obj)) !== JSON.stringify(specOf(old));
      meta.generation = (old.metadata?.generation ?? 1) + (changed ? 1 : 0);
    }
    return this.commit(r, b, key, obj, old) as T;
  }

  /** Stores a modified copy of an existing object (used by patch and graceful delete). */
  replaceExisting(r: GroupVersionResource, namespace: string, name: string, obj: KubeObject): KubeObject {
    const b = this.bucket(r);
    const key = objKey(this.info(r).namespaced ? namespace : '', name);
    const old = b.objects.get(key);
    if (old === undefined) throw notFound({ group: r.group, resource: r.resource }, name);
    return this.commit(r, b, key, clone(obj), old);
  }

  /** Deletes an object; with finalizers it only gets a deletionTimestamp. */
  delete(
    r: GroupVersionResource,
    namespace: string,
    name: string,
    preconditions?: { uid?: string; resourceVersion?: string },
  ): void {
    const b = this.bucket(r);
    const key = objKey(this.info(r).namespaced ? namespace : '', name);
    const old = b.objects.get(key);
    if (old === undefined) throw notFound({ group: r.group, resource: r.resource }, name);
    if (preconditions?.uid !== undefined && preconditions.uid !== old.metadata?.uid) {
      throw conflict(
        { group: r.group, resource: r.resource },
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata?.uid ?? ''}`,
      );
    }
    if (
      preconditions?.resourceVersion !== undefined &&
      preconditions.resourceVersion !== old.metadata?.resourceVersion
    ) {
      throw conflict({ group: r.group, resource: r.resource }, name, OPTIMISTIC_LOCK_MESSAGE);
    }
    if ((old.metadata?.finalizers ?? []).length > 0) {
      if (old.metadata?.deletionTimestamp) return;
      const obj = clone(old);
      (obj.metadata as NonNullable<KubeObject['metadata']>).deletionTimestamp = formatTimestamp();
      this.commit(r, b, key, obj, old);
      return;
    }
    b.objects.delete(key);
    const obj = clone(old);
    (obj.metadata as NonNullable<KubeObject['metadata']>).resourceVersion = String(++this.rv);
    this.record(b, { type: 'DELETED', rv: this.rv, obj, prev: old });
  }

  /** One object (a copy). */
  get<T extends KubeObject>(r: GroupVersionResource, namespace: string, name: string): T {
    const key = objKey(this.info(r).namespaced ? namespace : '', name);
    const obj = this.bucket(r).objects.get(key);
    if (obj === undefined) throw notFound({ group: r.group, resource: r.resource }, name);
    return clone(obj) as T;
  }

  /** Objects matching the options, sorted by key, paged by limit/continue. */
  list<T extends KubeObject>(
    r: GroupVersionResource,
    namespace: string,
    opts: ListOptions = {},
  ): ObjectList<T> {
    const match = selectorMatcher(opts);
    const b = this.bucket(r);
    const keys = [...b.objects.keys()]
      .filter((k) => namespace === '' || k.startsWith(`${namespace}/`))
      .sort();
    let start = 0;
    if (opts.continue)
      start = Number(Buffer.from(opts.continue, 'base64').toString('utf8').split(':')[1] ?? '0');
    const items: T[] = [];
    let next: string | undefined;
    for (let i = start; i < keys.length; i++) {
      const o = b.objects.get(keys[i] as string) as KubeObject;
      if (!match(o)) continue;
      if (opts.limit !== undefined && opts.limit > 0 && items.length >= opts.limit) {
        next = Buffer.from(`${this.rv}:${i}`).toString('base64');
        break;
      }
      items.push(clone(o) as T);
    }
    const info = this.info(r);
    return {
      apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`,
      kind: `${info.kind}List`,
      metadata: { resourceVersion: String(this.rv), ...(next !== undefined ? { continue: next } : {}) },
      items,
    };
  }

  /**
   * Opens a watch. Without a resourceVersion (or "0") it starts with ADDED for every
   * current object; with one it replays history after it, or fails with 410 Expired when
   * that history was compacted.
   */
  watch(
    r: GroupVersionResource,
    namespace: string,
    opts: ListOptions,
    sink: Omit<Watcher, 'namespace' | 'match'>,
  ): () => void {
    const b = this.bucket(r);
    const match = selectorMatcher(opts);
    const inNs = (o: KubeObject): boolean => namespace === '' || (o.metadata?.namespace ?? '') === namespace;
    const w: Watcher = { namespace, match: (o) => inNs(o) && match(o), ...sink };
    const rv = opts.resourceVersion ?? '';
    if (rv === '' || rv === '0') {
      for (const o of b.objects.values()) if (w.match(o)) w.push({ type: 'ADDED', object: clone(o) });
    } else {
      const from = Number(rv);
      if (!Number.isFinite(from) || from < b.oldestRV) {
        const err = resourceExpired(`too old resource version: ${rv} (${b.oldestRV})`);
        w.push(errorEvent(err));
        w.close();
        return () => {};
      }
      for (const ev of b.history) if (ev.rv > from) this.deliver(w, ev);
    }
    b.watchers.add(w);
    return () => b.watchers.delete(w);
  }

  /** Forgets all history: watches from any earlier resourceVersion now get 410 Expired. */
  compact(): void {
    for (const b of this.buckets.values()) {
      b.history = [];
      b.oldestRV = this.rv;
    }
  }

  /** Ends every open watch with a 410 Expired ERROR event. */
  expireWatches(): void {
    for (const b of this.buckets.values()) {
      for (const w of [...b.watchers]) {
        w.push(errorEvent(resourceExpired('watch closed by the fake tracker')));
        w.close();
      }
      b.watchers.clear();
    }
  }

  /** Number of open watches on a resource. */
  watcherCount(r: GroupVersionResource): number {
    return this.bucket(r).watchers.size;
  }

  private commit(
    r: GroupVersionResource,
    b: Bucket,
    key: string,
    obj: KubeObject,
    old: KubeObject,
  ): KubeObject {
    if (obj.metadata === undefined) obj.metadata = {};
    const meta = obj.metadata;
    meta.resourceVersion = String(++this.rv);
    this.setTypeMeta(r, obj);
    // A finalizer removed from an object that is being deleted completes the deletion.
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0) {
      b.objects.delete(key);
      this.record(b, { type: 'DELETED', rv: this.rv, obj, prev: old });
      return clone(obj);
    }
    b.objects.set(key, obj);
    this.record(b, { type: 'MODIFIED', rv: this.rv, obj, prev: old });
    return clone(obj);
  }

  private setTypeMeta(r: GroupVersionResource, obj: KubeObject): void {
    const kind = this.info(r).kind;
    if (kind !== '') {
      obj.apiVersion = r.group === '' ? r.version : `${r.group}/${r.version}`;
      obj.kind = kind;
    }
  }

  private record(b: Bucket, ev: HistoryEvent): void {
    b.history.push(ev);
    if (b.history.length > MAX_HISTORY) {
      const dropped = b.history.splice(0, b.history.length - MAX_HISTORY);
      b.oldestRV = dropped[dropped.length - 1]?.rv ?? b.oldestRV;
    }
    for (const w of b.watchers) this.deliver(w, ev);
  }

  // Selector transitions as the API server reports them: leaving the selection is a
  // DELETED, entering it an ADDED.
  private deliver(w: Watcher, ev: HistoryEvent): void {
    const cur = w.match(ev.obj);
    const prev = ev.prev !== undefined ? w.match(ev.prev) : false;
    if (ev.type === 'ADDED') {
      if (cur) w.push({ type: 'ADDED', object: clone(ev.obj) });
    } else if (ev.type === 'DELETED') {
      if (cur || prev) w.push({ type: 'DELETED', object: clone(ev.obj) });
    } else if (cur && prev) w.push({ type: 'MODIFIED', object: clone(ev.obj) });
    else if (cur) w.push({ type: 'ADDED', object: clone(ev.obj) });
    else if (prev) w.push({ type: 'DELETED', object: clone(ev.obj) });
  }

  private bucket(r: GroupVersionResource): Bucket {
    const k = gvrKey(r);
    let b = this.buckets.get(k);
    if (b === undefined) {
      b = { objects: new Map(), history: [], oldestRV: 0, watchers: new Set() };
      this.buckets.set(k, b);
    }
    return b;
  }
}

function specOf(o: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = o as Record<string, unknown>;
  return rest;
}

/** An ERROR watch event for a StatusError. */
export function errorEvent<T>(err: StatusError): WatchEvent<T> {
  return { type: 'ERROR', object: err.status, error: err };
}
