// The controllers upstream's apiextensions-apiserver runs next to its REST storage, folded
// into one in-process loop over the CRD watch cache: naming (NamesAccepted, acceptedNames,
// conflicts within a group), establishing (Established — at once, not after upstream's
// 5 s), serving (the CustomResourceRegistry entries, with compiled schemas, their schema
// definitions for the patch engines and their Table printers) and finalizing (a deleting
// CRD's custom objects are deleted, then its cleanup finalizer removed). The registry is
// updated before Established is written, so a client that sees Established can use the
// resource at once.
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
} from '../api/generated/types/apiextensions-v1.js';
import type { DefinitionSchema, SchemaNode } from '../api/schema-types.js';
import { registerDefinition } from '../api/schema.js';
import { isConflict, isNotFound } from '../machinery/status-error.js';
import { CacheFollower } from '../apiserver/auth/rbac/cache-follower.js';
import { attachPrinter } from '../apiserver/printers/index.js';
import { jsonEqual, type KObject } from '../apiserver/registry/object.js';
import type { Store, WriteOptions } from '../apiserver/registry/store.js';
import type { CacheEntry } from '../apiserver/registry/watch-cache.js';
import { type ServedAPIs, servedResources } from '../apiserver/served.js';
import { CRD_CLEANUP_FINALIZER, setCondition } from './crd-strategy.js';
import { customResourcePrinter } from './custom-resource-strategy.js';
import type { ServedCustomResource } from './registry.js';
import { defaultedNames, isEstablished, resourceInfoFor, servedVersions } from './resource-info.js';
import { compileCustomResourceSchema, type CustomResourceSchema } from './schema/index.js';

/** The field manager of the API server's own CRD status writes. */
export const CRD_CONTROLLER_MANAGER = 'kube-apiserver';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function wo(subresource = 'status'): WriteOptions {
  return { dryRun: false, fieldManager: CRD_CONTROLLER_MANAGER, subresource, warnings: [] };
}

const asCRD = (o: KObject): CustomResourceDefinition => o as unknown as CustomResourceDefinition;

/** Names other CRDs of a group (and the built-in resources of it) already use. */
interface UsedNames {
  names: Set<string>;
  kinds: Set<string>;
}

function usedNames(all: readonly CustomResourceDefinition[], self: CustomResourceDefinition): UsedNames {
  const names = new Set<string>();
  const kinds = new Set<string>();
  for (const r of servedResources()) {
    if (r.group !== self.spec.group) continue;
    names.add(r.plural);
    names.add(r.singular);
    for (const s of r.shortNames) names.add(s);
    kinds.add(r.kind);
    kinds.add(r.listKind);
  }
  for (const o of all) {
    if (o.metadata?.name === self.metadata?.name || o.spec?.group !== self.spec.group) continue;
    const a = o.status?.acceptedNames;
    if (!a) continue;
    for (const n of [a.plural, a.singular, ...(a.shortNames ?? [])]) if (n) names.add(n);
    for (const k of [a.kind, a.listKind]) if (k) kinds.add(k);
  }
  return { names, kinds };
}

/** The status the naming and establishing controllers want for a CRD. */
export function desiredStatus(
  crd: CustomResourceDefinition,
  all: readonly CustomResourceDefinition[],
  now: Date,
): CustomResourceDefinition['status'] {
  const next = structuredClone(crd);
  const used = usedNames(all, crd);
  const requested = defaultedNames(crd.spec.names);
  const accepted: CustomResourceDefinitionNames = {
    ...(crd.status?.acceptedNames ?? { plural: '', kind: '' }),
  };
  let conflict: { reason: string; message: string } | undefined;
  const fresh = (want: string, have: string | undefined, set: Set<string>): boolean =>
    want === have || !set.has(want);
  const fail = (reason: string, name: string): void => {
    conflict ??= { reason, message: `${JSON.stringify(name)} is already in use` };
  };
  if (fresh(requested.plural, accepted.plural, used.names)) accepted.plural = requested.plural;
  else fail('PluralConflict', requested.plural);
  if (fresh(requested.singular, accepted.singular, used.names)) accepted.singular = requested.singular;
  else fail('SingularConflict', requested.singular);
  const shortOK = requested.shortNames.every(
    (s) => (accepted.shortNames ?? []).includes(s) || !used.names.has(s),
  );
  if (shortOK) accepted.shortNames = requested.shortNames;
  else fail('ShortNamesConflict', requested.shortNames.find((s) => used.names.has(s)) ?? '');
  if (fresh(requested.kind, accepted.kind, used.kinds)) accepted.kind = requested.kind;
  else fail('KindConflict', requested.kind);
  if (fresh(requested.listKind, accepted.listKind, used.kinds)) accepted.listKind = requested.listKind;
  else fail('ListKindConflict', requested.listKind);
  accepted.categories = requested.categories;
  if (accepted.shortNames?.length === 0) delete accepted.shortNames;
  if (accepted.categories?.length === 0) delete accepted.categories;
  if (next.status === undefined) next.status = {};
  const status = next.status;
  status.acceptedNames = accepted;
  setCondition(
    next,
    conflict
      ? { type: 'NamesAccepted', status: 'False', ...conflict }
      : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
    now,
  );
  if (!isEstablished(crd)) {
    setCondition(
      next,
      conflict
        ? {
            type: 'Established',
            status: 'False',
            reason: 'NotAccepted',
            message: 'not all names are accepted',
          }
        : {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
          },
      now,
    );
  }
  return next.status;
}

// The compiled schemas of a CRD generation, so a status write does not recompile them.
interface Compiled {
  key: string;
  schemas: Map<string, CustomResourceSchema | undefined>;
}

/** Runs naming, establishing, serving and finalizing for one API server. */
export class CustomResourceDefinitionController {
  private readonly follower: CacheFollower;
  private readonly crds = new Map<string, CustomResourceDefinition>();
  private readonly queue = new Set<string>();
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly compiled = new Map<string, Compiled>();
  private readonly definitions = new Map<string, Array<() => void>>();
  private readonly finalizing = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly served: ServedAPIs,
    private readonly customStore: (entry: ServedCustomResource) => Store,
    private readonly clock: () => Date = () => new Date(),
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.follower = new CacheFollower(store, {
      reset: (entries) => this.reset(entries),
      event: (ev) => {
        const name = ev.cur.name;
        if (ev.type === 'DELETED') this.crds.delete(name);
        else this.crds.set(name, asCRD(ev.cur.obj));
        this.enqueue(name);
      },
    });
  }

  private reset(entries: readonly CacheEntry[]): void {
    const before = new Set(this.crds.keys());
    this.crds.clear();
    for (const e of entries) this.crds.set(e.name, asCRD(e.obj));
    for (const n of new Set([...before, ...this.crds.keys()])) this.enqueue(n);
  }

  /** Loads every CRD and serves the established ones before resolving. */
  async start(): Promise<void> {
    await this.follower.start();
    await this.waitIdle();
  }

  /** Resolves once every queued CRD was processed. */
  async waitIdle(): Promise<void> {
    while (this.running || this.queue.size > 0) await this.idle;
  }

  private enqueue(name: string): void {
    this.queue.add(name);
    if (this.running || this.closed) return;
    this.running = true;
    this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size > 0 && !this.closed) {
        const name = this.queue.values().next().value as string;
        this.queue.delete(name);
        try {
          await this.sync(name);
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) this.onError(err);
          // A conflicting write brings its own event; anything else is retried shortly.
          if (!isNotFound(err)) setTimeout(() => this.enqueue(name), 100).unref();
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Reconciles one CRD by name. */
  async sync(name: string): Promise<void> {
    const crd = this.crds.get(name);
    if (!crd) {
      this.unserve(name);
      return;
    }
    const deleting = crd.metadata?.deletionTimestamp !== undefined;
    const status = deleting ? crd.status : desiredStatus(crd, [...this.crds.values()], this.clock());
    const next: CustomResourceDefinition = { ...crd, status: status ?? {} };
    if (isEstablished(next)) this.serve(name, next);
    else this.unserve(name);
    if (!deleting && !jsonEqual(status, crd.status)) {
      await this.store.guaranteedUpdate(
        '',
        name,
        wo(),
        (cur) => {
          if (!cur) return cur as unknown as KObject;
          const c = asCRD(cur);
          c.status = desiredStatus(c, [...this.crds.values()], this.clock());
          return cur;
        },
        { mode: 'status' },
      );
    }
    if (
      deleting &&
      (crd.metadata?.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER) &&
      !this.finalizing.has(name)
    ) {
      this.finalizing.add(name);
      void this.finalize(name).finally(() => this.finalizing.delete(name));
    }
  }

  private serve(name: string, crd: CustomResourceDefinition): void {
    const compiled = this.compile(name, crd);
    const entries: ServedCustomResource[] = [];
    const registrations: Array<() => void> = [];
    for (const v of servedVersions(crd)) {
      const info = resourceInfoFor(crd, v);
      const schema = compiled.schemas.get(v.name);
      attachPrinter(info, customResourcePrinter(v));
      registrations.push(registerDefinition(definitionOf(info.definition, schema)));
      entries.push({ crd, version: v.name, info, schema });
    }
    const previous = this.served.custom.entriesOf(name);
    // Same names, versions and schemas: keep the served entries (and their Stores).
    if (previous.length === entries.length && previous.every((p, i) => sameServing(p, entries[i]!, crd))) {
      for (const r of registrations) r();
      return;
    }
    const old = this.definitions.get(name) ?? [];
    this.definitions.set(name, registrations);
    this.served.custom.set(name, entries);
    for (const r of old) r();
  }

  private unserve(name: string): void {
    this.served.custom.set(name, []);
    for (const r of this.definitions.get(name) ?? []) r();
    this.definitions.delete(name);
    this.compiled.delete(name);
  }

  private compile(name: string, crd: CustomResourceDefinition): Compiled {
    const key = `${crd.metadata?.uid ?? ''}/${crd.metadata?.generation ?? 0}`;
    const have = this.compiled.get(name);
    if (have?.key === key) return have;
    const schemas = new Map<string, CustomResourceSchema | undefined>();
    for (const v of crd.spec.versions) {
      const s = v.schema?.openAPIV3Schema;
      let compiled: CustomResourceSchema | undefined;
      try {
        compiled = s !== undefined ? compileCustomResourceSchema(s) : undefined;
      } catch (err) {
        this.onError(err);
      }
      schemas.set(v.name, compiled);
    }
    const c = { key, schemas };
    this.compiled.set(name, c);
    return c;
  }

  // Deletes every custom object of a deleting CRD (all versions share one key prefix),
  // waits until none is left (finalizers of the objects are honoured), then releases it.
  private async finalize(name: string): Promise<void> {
    const crd = this.crds.get(name);
    if (!crd) return;
    await this.setTerminating(name, 'InstanceDeletionInProgress', 'CustomResource deletion is in progress');
    const entry = this.served.custom.entriesOf(name)[0];
    if (entry !== undefined) {
      const store = this.customStore(entry);
      for (let round = 0; !this.closed; round++) {
        const left = await store.listAll('');
        if (left.length === 0) break;
        for (const e of left) {
          if (e.obj.metadata?.deletionTimestamp !== undefined) continue;
          await store.delete(e.namespace, e.name, {}, wo('')).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * (round + 1))));
      }
    }
    if (this.closed) return;
    await this.setTerminating(name, 'InstanceDeletionCompleted', 'removed all instances');
    await this.store.guaranteedUpdate(
      '',
      name,
      wo(''),
      (cur) => {
        if (!cur) return cur as unknown as KObject;
        const m = cur.metadata ?? {};
        m.finalizers = (m.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
        return cur;
      },
      { mode: 'subresource' },
    );
  }

  private async setTerminating(name: string, reason: string, message: string): Promise<void> {
    await this.store.guaranteedUpdate(
      '',
      name,
      wo(),
      (cur) => {
        if (!cur) return cur as unknown as KObject;
        setCondition(asCRD(cur), { type: 'Terminating', status: 'True', reason, message }, this.clock());
        return cur;
      },
      { mode: 'subresource' },
    );
  }

  /** Stops following CRDs and removes what this server registered. */
  close(): void {
    this.closed = true;
    this.follower.close();
    for (const rs of this.definitions.values()) for (const r of rs) r();
    this.definitions.clear();
  }
}

// Custom resources have apiVersion, kind and metadata like any object: the schema's tree
// gets them when it does not declare them, so server-side apply treats metadata as ObjectMeta.
function definitionOf(name: string, schema: CustomResourceSchema | undefined): DefinitionSchema {
  const node: SchemaNode = schema?.node ?? { type: 'object', preserveUnknownFields: true };
  const properties = { ...(node.properties ?? {}) };
  properties.apiVersion ??= { type: 'string' };
  properties.kind ??= { type: 'string' };
  properties.metadata = { ref: OBJECT_META };
  return { ...node, type: 'object', properties, name };
}

function sameServing(
  a: ServedCustomResource,
  b: ServedCustomResource,
  crd: CustomResourceDefinition,
): boolean {
  return (
    a.schema === b.schema &&
    a.crd.metadata?.generation === crd.metadata?.generation &&
    a.crd.metadata?.uid === crd.metadata?.uid &&
    JSON.stringify(a.info) === JSON.stringify(b.info)
  );
}
