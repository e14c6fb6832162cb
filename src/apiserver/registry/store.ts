// The generic Store (upstream's registry/generic/registry/store.go): one implementation of
// create, get, list, update, patch-by-update and delete for every resource, with per-kind
// behaviour coming only from a Strategy. The fixed order on every write is:
// prepare → default → validate → managed fields → persist; storage errors become API errors
// in exactly one place (`storageToStatus`).
import { randomUUID } from 'node:crypto';
import { resourceFor } from '../../api/registry.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import { everything as everyField, type Fields } from '../../machinery/fields/field-selector.js';
import { everything as everyLabel } from '../../machinery/labels/selector.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  type FieldError,
  type GroupResource,
  internalError,
  invalid,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  resourceExpired,
  StatusError,
  timeout,
} from '../../machinery/status-error.js';
import type { KeyValue, Storage } from '../../storage/storage.js';
import { StorageError } from '../../storage/storage.js';
import { type ListQuery, parseRV } from './list-options.js';
import { deepCopy, type KObject, jsonEqual, meta, rememberJSON } from './object.js';
import type { Strategy, StrategyContext } from './strategy.js';
import {
  type CacheEntry,
  decodeEntry,
  spliceResourceVersion,
  storedHead,
  WatchCache,
} from './watch-cache.js';

/** Defaulting, validation and field ownership, shared by all resources (wired by the server). */
export interface ObjectHooks {
  /** Applies upstream defaults in place. */
  defaults(obj: KObject, res: ResourceInfo): void;
  /** Semantic validation of a new object. */
  validate(obj: KObject, res: ResourceInfo): FieldError[];
  /** Semantic validation of an update. */
  validateUpdate(obj: KObject, old: KObject, res: ResourceInfo): FieldError[];
  /** Records field ownership of an Update-operation write in metadata.managedFields. */
  trackManagedFields(old: KObject | undefined, obj: KObject, res: ResourceInfo, wo: WriteOptions): void;
}

/**
 * How an update treats the incoming object: `main` keeps status (strategy rules), `status`
 * keeps everything but status, `subresource` trusts the caller (scale, finalize, approval,
 * binding build the desired object themselves from the current one).
 */
export type UpdateMode = 'main' | 'status' | 'subresource';

/** Per-request options of a write. */
export interface WriteOptions {
  dryRun: boolean;
  /** The field manager (`fieldManager` parameter, else derived from the User-Agent). */
  fieldManager: string;
  /** Subresource written through (`status`, `scale`, …), '' for the main resource. */
  subresource: string;
  /** Warnings for `Warning` response headers. */
  warnings: string[];
  /** Server-side apply already recorded field ownership for this write. */
  managedFieldsDone?: boolean;
  /** Admission for this request (built by the handler with the user's context). */
  admission?: AdmissionHooks;
}

/**
 * The admission chain as the Store sees it. Upstream order on create/update: defaulting →
 * mutating admission → validation → validating admission → persist; on delete, validating
 * admission sees the object about to be deleted. Hooks throw StatusErrors to deny.
 */
export interface AdmissionHooks {
  mutate(obj: KObject, old: KObject | undefined): Promise<void>;
  validate(obj: KObject, old: KObject | undefined): Promise<void>;
  validateDelete?(old: KObject): Promise<void>;
}

/** Result of a delete. */
export interface DeleteOutcome {
  /** The object as it now is (deleting) or was right before removal (deleted). */
  obj: KObject;
  /** True when the object is gone from storage. */
  deleted: boolean;
}

/** Options of a delete (metav1.DeleteOptions, as far as the Store needs them). */
export interface DeleteOpts {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
}

/** A page of list results, items already rendered as JSON. */
export interface ListPage {
  items: CacheEntry[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const MAX_GENERATE_NAME_TRIES = 8;
/** A consistent, unfiltered, unpaged list (what admission's `listAll` needs). */
const EVERYTHING: ListQuery = {
  labelSelector: everyLabel(),
  fieldSelector: everyField(),
  limit: 0,
  continue: '',
  resourceVersion: '',
  resourceVersionMatch: '',
  watch: false,
  allowWatchBookmarks: false,
  sendInitialEvents: undefined,
  timeoutSeconds: undefined,
};
const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Finalizers the garbage collector acts on. */
export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

function generateName(base: string): string {
  const b = base.length > 58 ? base.slice(0, 58) : base;
  let s = '';
  for (let i = 0; i < 5; i++)
    s += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
  return b + s;
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * How a Store's objects differ from what storage holds (custom resources served at several
 * versions with `conversion: None`): objects are written at the storage version and read
 * back at the Store's own version, the apiVersion rewritten and `onRead` applied
 * (defaulting from the schema), as upstream's None converter and its storage decoder do.
 */
export interface StoreView {
  /** The apiVersion written to storage (default: the resource's own). */
  storageAPIVersion?: string;
  /** Applied in place to every object read from storage, after its apiVersion is rewritten. */
  onRead?(obj: KObject): void;
}

/** The generic Store of one resource. */
export class Store {
  readonly resource: ResourceInfo;
  readonly gr: GroupResource;
  /** `/registry/<group or core>/<plural>/`. */
  readonly prefix: string;
  readonly cache: WatchCache;
  private readonly fieldNames: Set<string>;
  private readonly ownFieldLabels: boolean;
  private readonly apiVersion: string;
  private readonly storageAPIVersion: string;
  /** What every stored object of this resource starts with (see `encode`). */
  private readonly head: string | undefined;
  /** Set when objects are read at another version or transformed on read (see StoreView). */
  private readonly view: StoreView | undefined;

  constructor(
    readonly strategy: Strategy,
    readonly storage: Storage,
    private readonly hooks: ObjectHooks,
    private readonly clock: () => Date = () => new Date(),
    view?: StoreView,
  ) {
    this.resource = strategy.resource;
    this.gr = { group: this.resource.group, resource: this.resource.plural };
    this.prefix = `/registry/${this.resource.group === '' ? 'core' : this.resource.group}/${this.resource.plural}/`;
    this.apiVersion =
      this.resource.group === '' ? this.resource.version : `${this.resource.group}/${this.resource.version}`;
    this.storageAPIVersion = view?.storageAPIVersion ?? this.apiVersion;
    this.view =
      view !== undefined && (view.onRead !== undefined || this.storageAPIVersion !== this.apiVersion)
        ? view
        : undefined;
    this.cache = new WatchCache(
      storage,
      this.prefix,
      this.view !== undefined ? { decoder: (key, value, rv) => this.decodeEntry(key, value, rv) } : {},
    );
    this.head = storedHead(this.resource.kind, this.storageAPIVersion);
    const own = Object.keys(strategy.selectableFields({}));
    // Kinds with their own field-label conversion upstream (those with fields beyond the
    // metadata ones, and every custom resource) answer `field label not supported` and accept
    // metadata.namespace only when namespaced; the others use the scheme's default conversion.
    this.ownFieldLabels =
      own.length > 0 ||
      resourceFor(this.resource.group, this.resource.version, this.resource.plural) === undefined;
    this.fieldNames = new Set([
      'metadata.name',
      ...(this.resource.namespaced || !this.ownFieldLabels ? ['metadata.namespace'] : []),
      ...own,
    ]);
  }

  /** Starts the watch cache. */
  start(): Promise<void> {
    return this.cache.start();
  }

  /** The storage key of an object. */
  key(namespace: string, name: string): string {
    return this.resource.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  /** The key prefix of a namespace (or of everything when namespace is ''). */
  namespacePrefix(namespace: string): string {
    return this.resource.namespaced && namespace !== '' ? `${this.prefix}${namespace}/` : this.prefix;
  }

  /** Selectable fields of an object (metadata.name, metadata.namespace and the kind's own). */
  fields(obj: KObject): Fields {
    return {
      'metadata.name': obj.metadata?.name ?? '',
      ...(this.resource.namespaced
        ? { 'metadata.namespace': obj.metadata?.namespace ?? '' }
        : { 'metadata.namespace': '' }),
      ...this.strategy.selectableFields(obj),
    };
  }

  /** Throws 400 when a field selector names a field this kind cannot select on. */
  checkFieldSelector(q: ListQuery): void {
    for (const r of q.fieldSelector.requirements()) {
      if (this.fieldNames.has(r.field)) continue;
      throw badRequest(
        this.strategy.unsupportedFieldLabel?.(r.field) ??
          (this.ownFieldLabels
            ? `field label not supported: ${r.field}`
            : `"${r.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`),
      );
    }
  }

  /** True when an object passes the label and field selectors of `q`. */
  matches(obj: KObject, q: ListQuery): boolean {
    if (!q.labelSelector.empty() && !q.labelSelector.matches(obj.metadata?.labels ?? {})) return false;
    if (!q.fieldSelector.empty() && !q.fieldSelector.matches(this.fields(obj))) return false;
    return true;
  }

  // Reads that only need the object skip rendering its JSON.
  private decode(kv: KeyValue): KObject {
    const obj = JSON.parse(dec.decode(kv.value)) as KObject;
    meta(obj).resourceVersion = String(kv.modRevision);
    if (this.view !== undefined) this.toView(obj);
    return obj;
  }

  private toView(obj: KObject): void {
    obj.apiVersion = this.apiVersion;
    this.view?.onRead?.(obj);
  }

  /** A watch-cache entry for stored bytes, as this Store's clients see the object. */
  decodeEntry(key: string, value: Uint8Array, rv: number): CacheEntry {
    const e = decodeEntry(this.prefix, key, value, rv);
    if (this.view === undefined) return e;
    this.toView(e.obj);
    return { ...e, json: JSON.stringify(e.obj) };
  }

  // Stored objects carry kind and apiVersion first, as upstream serialises them, and no
  // resourceVersion (it is the storage revision, set on read).
  private encode(obj: KObject): string {
    const { kind: _k, apiVersion: _a, metadata, ...rest } = obj;
    let m = metadata;
    if (m !== undefined && (m.resourceVersion !== undefined || m.selfLink !== undefined)) {
      const { resourceVersion: _rv, selfLink: _sl, ...mrest } = m;
      m = mrest;
    }
    return JSON.stringify({
      kind: this.resource.kind,
      apiVersion: this.storageAPIVersion,
      metadata: m,
      ...rest,
    });
  }

  /**
   * After a successful write of `obj` (stored as `text`) at revision `rv`: sets its
   * resourceVersion and hands it, with its JSON, to the watch cache and to the handler
   * replying. From here on the object is shared and read-only.
   */
  private committed(key: string, obj: KObject, text: string, rv: number): void {
    meta(obj).resourceVersion = String(rv);
    const json =
      (this.storageAPIVersion === this.apiVersion ? spliceResourceVersion(text, this.head, rv) : undefined) ??
      JSON.stringify(obj);
    this.cache.offer(key, rv, obj, json);
    rememberJSON(obj, json);
  }

  /** Maps storage errors to API errors (the one place this happens). */
  storageToStatus(err: unknown, name: string): unknown {
    if (!(err instanceof StorageError)) return err;
    switch (err.code) {
      case 'KeyExists':
        return alreadyExists(this.gr, name);
      case 'NotFound':
        return notFound(this.gr, name);
      case 'Conflict':
        return conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
      case 'Compacted':
        return resourceExpired(`too old resource version: ${err.message}`);
      case 'FutureRevision':
        return timeout('Too large resource version', 1);
      case 'Unavailable':
        return new StatusError({ reason: 'ServiceUnavailable', code: 503, message: err.message });
      default:
        return internalError(err.message);
    }
  }

  private ctx(namespace: string, wo: { warnings: string[]; dryRun?: boolean }): StrategyContext {
    return { namespace, warnings: wo.warnings, now: this.clock(), dryRun: wo.dryRun === true };
  }

  /** GET of one object (from storage: always the latest committed state). */
  async get(namespace: string, name: string): Promise<KObject> {
    let kv: KeyValue | undefined;
    try {
      kv = await this.storage.get(this.key(namespace, name));
    } catch (e) {
      throw this.storageToStatus(e, name);
    }
    if (!kv) throw notFound(this.gr, name);
    return this.decode(kv);
  }

  /** LIST with selectors, paging and resourceVersion semantics. */
  async list(namespace: string, q: ListQuery): Promise<ListPage> {
    this.checkFieldSelector(q);
    const prefix = this.namespacePrefix(namespace);
    const exact = q.resourceVersionMatch === 'Exact';
    if (q.continue !== '' || (q.limit > 0 && q.resourceVersion !== '0') || exact) {
      return this.listFromStorage(prefix, q);
    }
    await this.cache.start();
    if (q.resourceVersion === '') {
      // Without prompt progress (etcd) the cache cannot prove it is current without waiting
      // for etcd's next progress notification: read from storage, as upstream does there.
      if (!this.storage.promptProgress) return this.listFromStorage(prefix, q);
      const cur = await this.storage.currentRevision();
      if (!(await this.cache.waitFor(cur))) return this.listFromStorage(prefix, q);
    } else if (q.resourceVersion !== '0') {
      const want = parseRV(q.resourceVersion);
      if (this.cache.currentRV() < want && !this.storage.promptProgress)
        return this.listFromStorage(prefix, q);
      if (!(await this.cache.waitFor(want)))
        throw timeout(`Too large resource version: ${want}, current: ${this.cache.currentRV()}`, 1);
    }
    const rv = this.cache.currentRV();
    const all = this.cache.list(prefix);
    const items =
      q.labelSelector.empty() && q.fieldSelector.empty() ? all : all.filter((e) => this.matches(e.obj, q));
    return { items, resourceVersion: String(rv) };
  }

  /** Every object of a namespace (or all), current as of now, from the watch cache. */
  async listAll(namespace: string): Promise<CacheEntry[]> {
    await this.cache.start();
    const prefix = this.namespacePrefix(namespace);
    if (!this.storage.promptProgress) return (await this.listFromStorage(prefix, EVERYTHING)).items;
    const cur = await this.storage.currentRevision();
    await this.cache.waitFor(cur);
    return this.cache.list(prefix);
  }

  private async listFromStorage(prefix: string, q: ListQuery): Promise<ListPage> {
    let revision: number | undefined;
    let cont: string | undefined;
    if (q.continue !== '') {
      const tok = decodeContinue(q.continue);
      cont = tok.storage;
    } else if (q.resourceVersion !== '' && q.resourceVersion !== '0') {
      revision = parseRV(q.resourceVersion);
      if (q.resourceVersionMatch === 'NotOlderThan' || q.resourceVersionMatch === '') {
        const cur = await this.storage.currentRevision();
        if (revision > cur) throw timeout(`Too large resource version: ${revision}, current: ${cur}`, 1);
        revision = undefined;
      }
    }
    const items: CacheEntry[] = [];
    const filtered = !(q.labelSelector.empty() && q.fieldSelector.empty());
    try {
      // Ask storage for exactly the number of items still missing: at most that many can
      // match, so a page never ends mid-way through a storage page and storage's own
      // continue token is always the resume point. Selective lists read on until `limit`
      // matches are found, as upstream does, so a page is never short while more exist.
      for (;;) {
        const want = q.limit > 0 ? q.limit - items.length : 0;
        const page = await this.storage.list(prefix, {
          ...(revision !== undefined && cont === undefined ? { revision } : {}),
          ...(want > 0 ? { limit: want } : {}),
          ...(cont !== undefined ? { continue: cont } : {}),
        });
        for (const kv of page.items) {
          const e = this.decodeEntry(kv.key, kv.value, kv.modRevision);
          if (!filtered || this.matches(e.obj, q)) items.push(e);
        }
        const rv = String(page.revision);
        if (page.continue === undefined) return { items, resourceVersion: rv };
        if (q.limit > 0 && items.length >= q.limit) {
          return {
            items,
            resourceVersion: rv,
            continue: encodeContinue({ storage: page.continue, rv: page.revision }),
          };
        }
        cont = page.continue;
      }
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Compacted' && q.continue !== '') {
        throw resourceExpired(CONTINUE_EXPIRED);
      }
      if (e instanceof StorageError && e.code === 'InvalidArgument' && q.continue !== '') {
        throw badRequest(`invalid continue token: ${e.message}`);
      }
      throw this.storageToStatus(e, '');
    }
  }

  /**
   * POST: creates an object. With `adopt` the caller hands over `input` (a request body
   * decoded for this request alone) and the Store uses it instead of a copy. The returned
   * object is shared with the watch cache: callers must not mutate it.
   */
  async create(namespace: string, input: KObject, wo: WriteOptions, adopt = false): Promise<KObject> {
    const obj = adopt ? input : deepCopy(input);
    const m = meta(obj);
    if (this.resource.namespaced) {
      if (m.namespace === undefined || m.namespace === '') m.namespace = namespace;
      else if (namespace !== '' && m.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
    } else {
      delete m.namespace;
    }
    if (m.resourceVersion !== undefined && m.resourceVersion !== '') {
      throw internalError('resourceVersion should not be set on objects to be created');
    }
    delete m.resourceVersion;
    const ctx = this.ctx(m.namespace ?? '', wo);
    const generated =
      (m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName !== '';
    if (generated) m.name = generateName(m.generateName!);
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(ctx.now);
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (this.strategy.tracksGeneration) m.generation = 1;
    else delete m.generation;
    this.hooks.defaults(obj, this.resource);
    await this.strategy.prepareForCreate(obj, ctx);
    let persisted = false;
    try {
      if (wo.admission) {
        await wo.admission.mutate(obj, undefined);
        // Mutating admission may add defaulted fields (e.g. tolerations, service account).
        this.hooks.defaults(obj, this.resource);
      }
      const errs = [
        ...this.hooks.validate(obj, this.resource),
        ...(this.strategy.validate?.(obj, ctx) ?? []),
      ];
      if (errs.length > 0) throw invalid(this.resource.kind, this.resource.group, m.name ?? '', errs);
      addWarnings(ctx, this.strategy.warningsOnCreate?.(obj, ctx));
      if (wo.admission) await wo.admission.validate(obj, undefined);
      if (!wo.managedFieldsDone) this.hooks.trackManagedFields(undefined, obj, this.resource, wo);
      if (wo.dryRun) {
        const existing = await this.storage.get(this.key(m.namespace ?? '', m.name ?? ''));
        if (existing && !generated) throw alreadyExists(this.gr, m.name ?? '');
        return obj;
      }
      for (let attempt = 0; ; attempt++) {
        try {
          const key = this.key(m.namespace ?? '', m.name ?? '');
          const text = this.encode(obj);
          const kv = await this.storage.create(key, enc.encode(text));
          this.committed(key, obj, text, kv.modRevision);
          persisted = true;
          return obj;
        } catch (e) {
          if (
            generated &&
            e instanceof StorageError &&
            e.code === 'KeyExists' &&
            attempt < MAX_GENERATE_NAME_TRIES
          ) {
            m.name = generateName(m.generateName!);
            continue;
          }
          throw this.storageToStatus(e, m.name ?? '');
        }
      }
    } finally {
      // Allocations made by the strategy (service IPs, node ports) are given back unless
      // the object was stored; a dry run never keeps them.
      if (!persisted) this.strategy.rollbackCreate?.(obj);
    }
  }

  /**
   * The read-modify-write loop behind PUT, PATCH and subresource writes (upstream's
   * GuaranteedUpdate): `mutate` gets a private copy of the current object and returns the
   * desired one. Conflicts caused by concurrent writers are retried; a stale
   * resourceVersion the client asked for is a 409.
   */
  async guaranteedUpdate(
    namespace: string,
    name: string,
    wo: WriteOptions,
    mutate: (current: KObject | undefined) => Promise<KObject> | KObject,
    opts: { createIfMissing?: boolean; mode?: UpdateMode } = {},
  ): Promise<{ obj: KObject; created: boolean }> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < 64; attempt++) {
      let cur: KeyValue | undefined;
      try {
        cur = await this.storage.get(key);
      } catch (e) {
        throw this.storageToStatus(e, name);
      }
      if (!cur) {
        if (!opts.createIfMissing) throw notFound(this.gr, name);
        const desired = await mutate(undefined);
        const m = meta(desired);
        if (m.name === undefined || m.name === '') m.name = name;
        if (m.name !== name)
          throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
        delete m.resourceVersion;
        try {
          return { obj: await this.create(namespace, desired, wo), created: true };
        } catch (e) {
          if (e instanceof StatusError && e.reason === 'AlreadyExists') continue;
          throw e;
        }
      }
      const old = this.decode(cur);
      const desired = await mutate(deepCopy(old));
      const next = await this.prepareUpdate(desired, old, name, wo, opts.mode ?? 'main');
      if (jsonEqualIgnoringManagedTimes(next, old)) return { obj: old, created: false };
      // Removing the last finalizer of a deleting object completes the delete, unless the kind
      // holds it otherwise (a namespace's spec.finalizers: its status updates must not end it).
      const done =
        next.metadata?.deletionTimestamp !== undefined &&
        (next.metadata.finalizers ?? []).length === 0 &&
        this.strategy.holdsDeletion?.(next) !== true;
      if (wo.dryRun) return { obj: next, created: false };
      try {
        if (done && (next.metadata?.deletionGracePeriodSeconds ?? 0) === 0) {
          const res = await this.storage.delete(key, cur.modRevision);
          next.metadata!.resourceVersion = String(res.revision);
          this.strategy.afterDelete?.(next);
          return { obj: next, created: false };
        }
        const text = this.encode(next);
        const kv = await this.storage.update(key, enc.encode(text), cur.modRevision);
        this.committed(key, next, text, kv.modRevision);
        this.strategy.afterUpdate?.(next, old);
        return { obj: next, created: false };
      } catch (e) {
        if (e instanceof StorageError && e.code === 'Conflict') continue;
        if (e instanceof StorageError && e.code === 'NotFound') continue;
        throw this.storageToStatus(e, name);
      }
    }
    throw conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
  }

  /**
   * A storage-level read-modify-write (upstream's Storage.GuaranteedUpdate called directly,
   * as pods/binding does): no strategy, defaulting, validation or managedFields, only
   * admission. The first attempt starts from the watch cache's copy; a stale copy fails the
   * revision check and the retry reads storage.
   */
  async guaranteedStoredUpdate(
    namespace: string,
    name: string,
    wo: WriteOptions,
    mutate: (current: KObject) => KObject,
  ): Promise<KObject> {
    const key = this.key(namespace, name);
    let cached = this.cache.get(key);
    for (let attempt = 0; attempt < 64; attempt++) {
      let old: KObject;
      let rev: number;
      let copy: KObject | undefined;
      if (cached !== undefined) {
        old = cached.obj;
        rev = cached.rv;
        // Parsing the cached JSON is a cheaper private copy than a structured clone.
        copy = JSON.parse(cached.json) as KObject;
        cached = undefined;
      } else {
        let kv: KeyValue | undefined;
        try {
          kv = await this.storage.get(key);
        } catch (e) {
          throw this.storageToStatus(e, name);
        }
        if (!kv) throw notFound(this.gr, name);
        old = this.decode(kv);
        rev = kv.modRevision;
      }
      const next = mutate(copy ?? deepCopy(old));
      if (wo.admission) {
        await wo.admission.mutate(next, old);
        await wo.admission.validate(next, old);
      }
      if (wo.dryRun) return next;
      const text = this.encode(next);
      try {
        const kv = await this.storage.update(key, enc.encode(text), rev);
        this.committed(key, next, text, kv.modRevision);
        this.strategy.afterUpdate?.(next, old);
        return next;
      } catch (e) {
        if (e instanceof StorageError && (e.code === 'Conflict' || e.code === 'NotFound')) continue;
        throw this.storageToStatus(e, name);
      }
    }
    throw conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
  }

  /** The common checks and bookkeeping of every update; returns the object to persist. */
  private async prepareUpdate(
    desired: KObject,
    old: KObject,
    name: string,
    wo: WriteOptions,
    mode: UpdateMode,
  ): Promise<KObject> {
    const m = meta(desired);
    const om = old.metadata ?? {};
    if (m.name !== undefined && m.name !== '' && m.name !== name) {
      throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    }
    m.name = name;
    if (this.resource.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== om.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      m.namespace = om.namespace;
    } else delete m.namespace;
    const rv = m.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!this.strategy.allowUnconditionalUpdate) {
        throw invalid(this.resource.kind, this.resource.group, name, [
          {
            type: 'FieldValueRequired',
            field: 'metadata.resourceVersion',
            detail: 'must be specified for an update',
          },
        ]);
      }
    } else if (rv !== om.resourceVersion) {
      throw conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
    }
    // Fields only the server sets carry over from the stored object.
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    if (om.deletionTimestamp !== undefined) m.deletionTimestamp = om.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (om.deletionGracePeriodSeconds !== undefined)
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    if (om.generation !== undefined) m.generation = om.generation;
    else delete m.generation;
    delete m.selfLink;
    m.resourceVersion = om.resourceVersion;
    // A deleting object may lose finalizers but gain none (upstream forbids adding).
    if (om.deletionTimestamp !== undefined) {
      const before = new Set(om.finalizers ?? []);
      const added = (m.finalizers ?? []).filter((f) => !before.has(f));
      if (added.length > 0) {
        throw invalid(this.resource.kind, this.resource.group, name, [
          {
            type: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
          },
        ]);
      }
    }
    const ctx = this.ctx(om.namespace ?? '', wo);
    if (mode === 'status') this.strategy.prepareForStatusUpdate(desired, old, ctx);
    else if (mode === 'main') await this.strategy.prepareForUpdate(desired, old, ctx);
    this.hooks.defaults(desired, this.resource);
    if (this.strategy.tracksGeneration && specChanged(desired, old)) m.generation = (om.generation ?? 0) + 1;
    if (wo.admission) {
      await wo.admission.mutate(desired, old);
      this.hooks.defaults(desired, this.resource);
    }
    // Subresource writers (binding, finalize, approval, ephemeral containers, scale) change
    // exactly the fields they own and check them themselves; the main resource's update
    // rules (a pod's spec is immutable, …) do not apply to them, as upstream.
    const errs =
      mode === 'subresource'
        ? []
        : [
            ...this.hooks.validateUpdate(desired, old, this.resource),
            ...(this.strategy.validateUpdate?.(desired, old, ctx) ?? []),
          ];
    if (errs.length > 0) throw invalid(this.resource.kind, this.resource.group, name, errs);
    if (mode === 'main') addWarnings(ctx, this.strategy.warningsOnUpdate?.(desired, old, ctx));
    if (wo.admission) await wo.admission.validate(desired, old);
    if (!wo.managedFieldsDone) this.hooks.trackManagedFields(old, desired, this.resource, wo);
    return desired;
  }

  /** PUT: replaces an object (or creates it where the strategy allows). */
  update(
    namespace: string,
    name: string,
    input: KObject,
    wo: WriteOptions,
    status = false,
  ): Promise<{ obj: KObject; created: boolean }> {
    return this.guaranteedUpdate(
      namespace,
      name,
      wo,
      (cur) => {
        const desired = deepCopy(input);
        if (cur === undefined) return desired;
        return desired;
      },
      { createIfMissing: this.strategy.allowCreateOnUpdate && !status, mode: status ? 'status' : 'main' },
    );
  }

  /** DELETE of one object, honouring preconditions, grace periods, finalizers and propagation. */
  async delete(namespace: string, name: string, opts: DeleteOpts, wo: WriteOptions): Promise<DeleteOutcome> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < 64; attempt++) {
      let cur: KeyValue | undefined;
      try {
        cur = await this.storage.get(key);
      } catch (e) {
        throw this.storageToStatus(e, name);
      }
      if (!cur) throw notFound(this.gr, name);
      const obj = this.decode(cur);
      const m = meta(obj);
      const pre = opts.preconditions;
      if (pre?.uid !== undefined && pre.uid !== m.uid) {
        throw conflict(
          this.gr,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid ?? ''}`,
        );
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== m.resourceVersion) {
        throw conflict(
          this.gr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion ?? ''}`,
        );
      }
      if (wo.admission?.validateDelete) await wo.admission.validateDelete(obj);
      const next = deepCopy(obj);
      const nm = meta(next);
      const ctx = this.ctx(namespace, wo);
      let changed = false;
      const finalizers = new Set(nm.finalizers ?? []);
      const policy =
        opts.propagationPolicy ??
        (opts.orphanDependents === true
          ? 'Orphan'
          : opts.orphanDependents === false
            ? 'Background'
            : undefined);
      // Propagation is recorded as a finalizer the garbage collector acts on.
      if (policy === 'Orphan' && !finalizers.has(FINALIZER_ORPHAN)) {
        finalizers.delete(FINALIZER_FOREGROUND);
        finalizers.add(FINALIZER_ORPHAN);
        changed = true;
      } else if (policy === 'Foreground' && !finalizers.has(FINALIZER_FOREGROUND)) {
        finalizers.delete(FINALIZER_ORPHAN);
        finalizers.add(FINALIZER_FOREGROUND);
        changed = true;
      } else if (
        policy === 'Background' &&
        (finalizers.has(FINALIZER_ORPHAN) || finalizers.has(FINALIZER_FOREGROUND))
      ) {
        finalizers.delete(FINALIZER_ORPHAN);
        finalizers.delete(FINALIZER_FOREGROUND);
        changed = true;
      }
      if (changed) nm.finalizers = [...finalizers];
      const grace = this.strategy.gracefulDelete?.(
        next,
        opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {},
      );
      const pending =
        finalizers.size > 0 ||
        (grace !== undefined && grace > 0) ||
        this.strategy.holdsDeletion?.(next) === true;
      if (!pending) {
        if (wo.dryRun) return { obj, deleted: true };
        try {
          const res = await this.storage.delete(key, cur.modRevision);
          m.resourceVersion = String(res.revision);
          this.strategy.afterDelete?.(obj);
          return { obj, deleted: true };
        } catch (e) {
          if (e instanceof StorageError && (e.code === 'Conflict' || e.code === 'NotFound')) continue;
          throw this.storageToStatus(e, name);
        }
      }
      // Graceful or finalizer-held: mark the object and leave it for its owners to finish.
      if (nm.deletionTimestamp === undefined) {
        const when = new Date(ctx.now.getTime() + (grace ?? 0) * 1000);
        nm.deletionTimestamp = rfc3339(when);
        nm.deletionGracePeriodSeconds = grace ?? 0;
        this.strategy.beginDelete?.(next, ctx);
        changed = true;
      } else if (grace !== undefined && (nm.deletionGracePeriodSeconds ?? 0) > grace) {
        // A later delete may shorten the grace period, never lengthen it.
        nm.deletionTimestamp = rfc3339(new Date(ctx.now.getTime() + grace * 1000));
        nm.deletionGracePeriodSeconds = grace;
        changed = true;
      }
      if (!changed) return { obj, deleted: false };
      if (wo.dryRun) return { obj: next, deleted: false };
      if (nm.generation !== undefined && this.strategy.tracksGeneration) nm.generation += 1;
      try {
        const text = this.encode(next);
        const kv = await this.storage.update(key, enc.encode(text), cur.modRevision);
        this.committed(key, next, text, kv.modRevision);
        return { obj: next, deleted: false };
      } catch (e) {
        if (e instanceof StorageError && (e.code === 'Conflict' || e.code === 'NotFound')) continue;
        throw this.storageToStatus(e, name);
      }
    }
    throw conflict(this.gr, name, OPTIMISTIC_LOCK_MESSAGE);
  }

  /** DELETE of a collection: every object matching the selectors, one by one. */
  async deleteCollection(
    namespace: string,
    q: ListQuery,
    opts: DeleteOpts,
    wo: WriteOptions,
  ): Promise<KObject[]> {
    const page = await this.list(namespace, {
      ...q,
      limit: 0,
      continue: '',
      resourceVersion: '',
      resourceVersionMatch: '',
    });
    const out: KObject[] = [];
    for (const e of page.items) {
      try {
        const r = await this.delete(e.namespace, e.name, opts, wo);
        out.push(r.obj);
      } catch (err) {
        if (err instanceof StatusError && err.reason === 'NotFound') continue;
        throw err;
      }
    }
    return out;
  }
}

function specChanged(a: KObject, b: KObject): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!jsonEqual(a[k], b[k])) return true;
  }
  return false;
}

// A no-op write must not produce a new revision even though managedFields timestamps
// would differ: compare with the timestamps of unchanged entries taken from the old object.
function jsonEqualIgnoringManagedTimes(next: KObject, old: KObject): boolean {
  const nmf = next.metadata?.managedFields;
  const omf = old.metadata?.managedFields;
  if (!nmf || !omf) return jsonEqual(next, old);
  const strip = (o: KObject): KObject => ({
    ...o,
    metadata: {
      ...o.metadata,
      managedFields: (o.metadata?.managedFields ?? []).map((e) => ({ ...e, time: '' })),
    },
  });
  return jsonEqual(strip(next), strip(old));
}

/** Upstream's message for a continue token whose snapshot was compacted away. */
export const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

interface ContinueToken {
  storage: string;
  rv: number;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, s: t.storage })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as {
      v?: unknown;
      rv?: unknown;
      s?: unknown;
    };
    if (v.v !== 'meta.k8s.io/v1' || typeof v.rv !== 'number' || typeof v.s !== 'string')
      throw new Error('bad');
    return { storage: v.s, rv: v.rv };
  } catch {
    throw badRequest(`invalid continue token: ${s}`);
  }
}

/** Adds warnings to a request's, once each (a retried write computes them again). */
function addWarnings(ctx: StrategyContext, warnings: readonly string[] | undefined): void {
  for (const w of warnings ?? []) if (!ctx.warnings.includes(w)) ctx.warnings.push(w);
}
