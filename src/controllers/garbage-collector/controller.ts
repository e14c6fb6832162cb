// The garbage collector: a dependency graph built from the ownerReferences of every object
// of every served resource that can be listed, watched and deleted (except Events, as
// upstream), and two queues acting on it.
//
// - attemptToDelete: an object whose owners may all be gone. Its owners are checked with a
//   live GET by name and uid (the graph may lag, and deleting is irreversible); when none is
//   solid the object is deleted (Background, or keeping its own orphan/foreground
//   finalizer's policy); owners that are themselves deleting in the foreground make it go
//   in the foreground too. An owner with a deletionTimestamp and the `foregroundDeletion`
//   finalizer waits until no dependent with blockOwnerDeletion remains, then loses the
//   finalizer (and the API server removes it).
// - attemptToOrphan: an owner with the `orphan` finalizer; its dependents lose their
//   references to it, then the finalizer is removed.
//
// Owners referenced but not (yet) observed are "virtual" nodes, verified with a live GET:
// when absent, their dependents are queued for deletion.
//
// The collector reads only metadata, so it watches and reads through the metadata-only
// client (PartialObjectMetadata): an object's kind comes from the resource it was listed
// from, not from the object, and writes are patches of metadata (never a full PUT).
import { waitForCacheSync } from '../../client/cache/informer-factory.js';
import { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import { unwrapTombstone } from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import { type Client, gvr, type KubeObject, type ResourceClient } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import { FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS } from '../../machinery/object-meta.js';
import { type OwnerReference, parseAPIVersion } from '../../machinery/owner-references.js';
import { isConflict, isNotFound } from '../../machinery/status-error.js';
import { runWorkers } from '../manager.js';
import type { Controller, ControllerContext } from '../types.js';

/** Resources the collector never tracks (upstream's default ignored resources). */
export const IGNORED_RESOURCES = new Set(['/events', 'events.k8s.io/events']);

/** The apiVersion and kind of a watched resource's objects. */
export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

/** An object the graph knows, or an owner it has only heard of (virtual). */
export interface GraphNode {
  uid: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  owners: OwnerReference[];
  dependents: Set<GraphNode>;
  /** Referenced as an owner but not observed through an informer. */
  virtual: boolean;
  /** Has a deletionTimestamp. */
  beingDeleted: boolean;
  /** Being deleted with the foregroundDeletion finalizer. */
  deletingDependents: boolean;
}

/** The resources the collector watches, keyed `apiVersion/kind`. */
export function collectableResources(resources: readonly ResourceInfo[]): ResourceInfo[] {
  return resources.filter(
    (r) =>
      !IGNORED_RESOURCES.has(`${r.group}/${r.plural}`) &&
      r.verbs.includes('list') &&
      r.verbs.includes('watch') &&
      r.verbs.includes('delete'),
  );
}

/** How often the collector re-learns the custom resources (upstream's discovery resync). */
export const CUSTOM_RESOURCE_RESYNC_MS = 30_000;

// A custom resource the collector follows with an informer of its own, stopped when the
// resource stops being served (shared informers cannot be stopped one by one).
interface CustomMonitor {
  info: ResourceInfo;
  stop: AbortController;
  informer: SharedIndexInformer<KubeObject>;
}

/** Where the collector learns custom resources: a lister and a change notification. */
export interface CustomResourceSource {
  /** The custom resources served now. */
  discover(): Promise<readonly ResourceInfo[]>;
  /** Calls `onChange` when the set may have changed (CRD events); returns the unsubscribe. */
  watch?(onChange: () => void): () => void;
}

function gvString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** The garbage collector controller. */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  /** Uids of objects that may have to be deleted. */
  readonly attemptToDelete: RateLimitingQueue<string>;
  /** Uids of owners whose dependents must be orphaned. */
  readonly attemptToOrphan: RateLimitingQueue<string>;
  private readonly nodes = new Map<string, GraphNode>();
  private readonly byKind = new Map<string, ResourceInfo>();
  private readonly informers: Array<{ informer: SharedIndexInformer<KubeObject>; type: TypeMeta }> = [];
  private readonly absentOwners = new Set<string>();
  private readonly client: Client;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly builtinKinds: Set<string>;
  private readonly custom = new Map<string, CustomMonitor>();
  private runSignal: AbortSignal | undefined;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;

  /**
   * A collector over `resources` (normally the built-in resources) and the custom resources
   * `customResources` reports, re-learnt every 30 s and whenever it signals a change.
   */
  constructor(
    ctx: ControllerContext,
    resources: readonly ResourceInfo[],
    private readonly customResources?: CustomResourceSource,
  ) {
    this.client = ctx.metadataClient ?? ctx.client;
    this.log = ctx.log;
    this.clock = ctx.clock;
    this.workers = ctx.options.workers;
    this.attemptToDelete = new RateLimitingQueue<string>({
      clock: ctx.clock,
      name: 'garbage_collector_attempt_to_delete',
    });
    this.attemptToOrphan = new RateLimitingQueue<string>({
      clock: ctx.clock,
      name: 'garbage_collector_attempt_to_orphan',
    });
    for (const r of resources) this.byKind.set(`${gvString(r.group, r.version)}/${r.kind}`, r);
    this.builtinKinds = new Set(this.byKind.keys());
    const informers = ctx.metadataInformers ?? ctx.informers;
    for (const r of collectableResources(resources)) {
      this.informers.push({
        informer: informers.forResource(gvr(r.group, r.version, r.plural)).informer,
        type: { apiVersion: gvString(r.group, r.version), kind: r.kind },
      });
    }
  }

  /** The graph node of a uid (for tests and debugging). */
  node(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** The custom resources being followed (for tests). */
  customResourcesFollowed(): ResourceInfo[] {
    return [...this.custom.values()].map((m) => m.info);
  }

  /** Re-learns the custom resources: follows new ones, stops following removed ones. */
  resyncCustomResources(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      try {
        do {
          this.resyncAgain = false;
          await this.resyncOnce();
        } while (this.resyncAgain);
      } finally {
        this.resyncing = undefined;
      }
    })();
    return this.resyncing;
  }

  private async resyncOnce(): Promise<void> {
    const signal = this.runSignal;
    if (!this.customResources || !signal || signal.aborted) return;
    let found: readonly ResourceInfo[];
    try {
      found = await this.customResources.discover();
    } catch (err) {
      this.log.info('custom resource discovery failed', { error: String(err) });
      return;
    }
    const want = new Map<string, ResourceInfo>();
    for (const r of collectableResources(found)) {
      const key = `${gvString(r.group, r.version)}/${r.kind}`;
      if (!this.builtinKinds.has(key) && !want.has(key)) want.set(key, r);
    }
    for (const [key, m] of this.custom) {
      const next = want.get(key);
      if (next !== undefined && next.plural === m.info.plural && next.namespaced === m.info.namespaced)
        continue;
      m.stop.abort();
      this.custom.delete(key);
      this.byKind.delete(key);
    }
    for (const [key, r] of want) {
      this.byKind.set(key, r);
      if (this.custom.has(key)) continue;
      const stop = new AbortController();
      signal.addEventListener('abort', () => stop.abort(), { once: true });
      const informer = new SharedIndexInformer<KubeObject>(
        this.client.resource(gvr(r.group, r.version, r.plural)),
        {
          clock: this.clock,
        },
      );
      const type = { apiVersion: gvString(r.group, r.version), kind: r.kind };
      informer.addEventHandler({
        onAdd: (o) => this.observe(o, type),
        onUpdate: (_old, cur) => this.observe(cur, type),
        onDelete: (o) => this.forget(unwrapTombstone(o).metadata?.uid ?? ''),
      });
      this.custom.set(key, { info: r, stop, informer });
      void informer.run(stop.signal).catch(() => undefined);
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    this.runSignal = signal;
    const regs = this.informers.map(({ informer, type }) =>
      informer.addEventHandler({
        onAdd: (o) => this.observe(o, type),
        onUpdate: (_old, cur) => this.observe(cur, type),
        onDelete: (o) => this.forget(unwrapTombstone(o).metadata?.uid ?? ''),
      }),
    );
    const unwatch = this.customResources?.watch?.(() => void this.resyncCustomResources());
    let timer: { cancel(): void } | undefined;
    const periodic = (): void => {
      timer = this.clock.setTimeout(() => {
        void this.resyncCustomResources().finally(() => {
          if (!signal.aborted) periodic();
        });
      }, CUSTOM_RESOURCE_RESYNC_MS);
    };
    if (this.customResources) {
      void this.resyncCustomResources();
      periodic();
    }
    // A resource whose list keeps failing must not stall collection of all the others.
    const ready = async (): Promise<boolean> => {
      const timeout = new AbortController();
      const onAbort = (): void => timeout.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = this.clock.setTimeout(() => timeout.abort(), 30_000);
      await waitForCacheSync(timeout.signal, ...this.informers.map((i) => i.informer));
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      return !signal.aborted;
    };
    const common = { workers: this.workers, signal, log: this.log, ready };
    try {
      await Promise.all([
        runWorkers({
          ...common,
          name: 'garbage-collector-delete',
          queue: this.attemptToDelete,
          sync: (u) => this.processDelete(u),
        }),
        runWorkers({
          ...common,
          name: 'garbage-collector-orphan',
          queue: this.attemptToOrphan,
          sync: (u) => this.processOrphan(u),
        }),
      ]);
    } finally {
      for (const r of regs) r.remove();
      unwatch?.();
      timer?.cancel();
      for (const m of this.custom.values()) m.stop.abort();
    }
  }

  /**
   * Adds or updates an observed object in the graph and queues what it implies. `type` is
   * the resource's apiVersion and kind (a PartialObjectMetadata names its own kind instead).
   */
  observe(
    obj: KubeObject,
    type: TypeMeta = { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '' },
  ): void {
    const m = obj.metadata ?? {};
    const uid = m.uid ?? '';
    if (uid === '') return;
    const owners = (m.ownerReferences ?? []) as OwnerReference[];
    let node = this.nodes.get(uid);
    const previous = node?.owners ?? [];
    if (node === undefined) {
      node = {
        uid,
        apiVersion: type.apiVersion,
        kind: type.kind,
        namespace: m.namespace ?? '',
        name: m.name ?? '',
        owners: [],
        dependents: new Set(),
        virtual: false,
        beingDeleted: false,
        deletingDependents: false,
      };
      this.nodes.set(uid, node);
    } else if (node.virtual) {
      node.virtual = false;
      node.namespace = m.namespace ?? '';
      node.name = m.name ?? node.name;
    }
    if (type.apiVersion !== '') node.apiVersion = type.apiVersion;
    if (type.kind !== '') node.kind = type.kind;
    node.owners = owners.map((o) => ({ ...o }));
    this.relink(node, previous, owners);
    const finalizers = m.finalizers ?? [];
    node.beingDeleted = m.deletionTimestamp !== undefined;
    if (node.beingDeleted && finalizers.includes(FINALIZER_ORPHAN_DEPENDENTS)) this.attemptToOrphan.add(uid);
    if (node.beingDeleted && finalizers.includes(FINALIZER_DELETE_DEPENDENTS)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.attemptToDelete.add(dep.uid);
      this.attemptToDelete.add(uid);
    } else node.deletingDependents = false;
  }

  // Links the node under its current owners and unlinks it from owners it dropped.
  private relink(
    node: GraphNode,
    previous: readonly OwnerReference[],
    current: readonly OwnerReference[],
  ): void {
    const cur = new Map(current.map((o) => [o.uid, o]));
    for (const old of previous) {
      const now = cur.get(old.uid);
      const owner = this.nodes.get(old.uid);
      if (owner === undefined) continue;
      if (now === undefined) owner.dependents.delete(node);
      // An owner waiting on its dependents may be unblocked by a dropped or relaxed reference.
      if (
        (now === undefined || (old.blockOwnerDeletion === true && now.blockOwnerDeletion !== true)) &&
        owner.deletingDependents
      ) {
        this.attemptToDelete.add(owner.uid);
      }
    }
    for (const ref of current) {
      let owner = this.nodes.get(ref.uid);
      if (owner === undefined) {
        const info = this.byKind.get(`${ref.apiVersion}/${ref.kind}`);
        owner = {
          uid: ref.uid,
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          namespace: info?.namespaced === false ? '' : node.namespace,
          name: ref.name,
          owners: [],
          dependents: new Set(),
          virtual: true,
          beingDeleted: false,
          deletingDependents: false,
        };
        this.nodes.set(ref.uid, owner);
        this.attemptToDelete.add(ref.uid);
      }
      owner.dependents.add(node);
    }
  }

  /** Removes a deleted object from the graph and queues its dependents and waiting owners. */
  forget(uid: string): void {
    const node = this.nodes.get(uid);
    if (node === undefined) return;
    this.nodes.delete(uid);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (owner === undefined) continue;
      owner.dependents.delete(node);
      if (owner.deletingDependents) this.attemptToDelete.add(owner.uid);
    }
    this.absentOwners.add(uid);
    for (const dep of node.dependents) this.attemptToDelete.add(dep.uid);
  }

  private resourceClient(
    apiVersion: string,
    kind: string,
  ): { client: ResourceClient<KubeObject>; namespaced: boolean } {
    const info = this.byKind.get(`${apiVersion}/${kind}`);
    if (info === undefined) throw new Error(`unable to map ${apiVersion}, Kind=${kind} to a resource`);
    const { group, version } = parseAPIVersion(apiVersion);
    return { client: this.client.resource(gvr(group, version, info.plural)), namespaced: info.namespaced };
  }

  // A live read of a node's object; undefined when it is gone or was replaced (uid differs).
  private async getLive(node: GraphNode): Promise<KubeObject | undefined> {
    const { client, namespaced } = this.resourceClient(node.apiVersion, node.kind);
    try {
      const obj = await client.get(namespaced ? node.namespace : '', node.name);
      return obj.metadata?.uid === node.uid ? obj : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One attemptToDelete item (upstream attemptToDeleteItem). */
  async processDelete(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (node === undefined) return;
    if (node.beingDeleted && !node.deletingDependents) return;
    const latest = await this.getLive(node);
    if (latest === undefined) {
      // Gone (or never existed): treat as deleted, which queues its dependents.
      this.forget(uid);
      return;
    }
    const m = latest.metadata ?? {};
    if (m.deletionTimestamp !== undefined && (m.finalizers ?? []).includes(FINALIZER_DELETE_DEPENDENTS)) {
      await this.processDeletingDependents(node);
      return;
    }
    const owners = (m.ownerReferences ?? []) as OwnerReference[];
    if (owners.length === 0) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of owners) {
      const state = await this.ownerState(ref, node.namespace);
      if (state === 'dangling') dangling.push(ref);
      else if (state === 'waiting') waiting.push(ref);
      else solid.push(ref);
    }
    const ns = node.namespace;
    const { client } = this.resourceClient(node.apiVersion, node.kind);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      await this.removeOwnerRefs(
        client,
        ns,
        node.name,
        node.uid,
        [...dangling, ...waiting].map((r) => r.uid),
      );
      return;
    }
    let policy: 'Foreground' | 'Background' | 'Orphan';
    if (waiting.length > 0 && node.dependents.size > 0) policy = 'Foreground';
    else if ((m.finalizers ?? []).includes(FINALIZER_ORPHAN_DEPENDENTS)) policy = 'Orphan';
    else if ((m.finalizers ?? []).includes(FINALIZER_DELETE_DEPENDENTS)) policy = 'Foreground';
    else policy = 'Background';
    this.log.debug('deleting object', { uid, kind: node.kind, name: node.name, namespace: ns, policy });
    try {
      await client.delete(ns, node.name, { propagationPolicy: policy, preconditions: { uid: node.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  // Whether an owner reference points at a live owner (solid), nothing (dangling) or an
  // owner deleting in the foreground (waiting).
  private async ownerState(
    ref: OwnerReference,
    namespace: string,
  ): Promise<'solid' | 'dangling' | 'waiting'> {
    if (this.absentOwners.has(ref.uid)) return 'dangling';
    const { client, namespaced } = this.resourceClient(ref.apiVersion, ref.kind);
    let owner: KubeObject;
    try {
      owner = await client.get(namespaced ? namespace : '', ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.absentOwners.add(ref.uid);
      return 'dangling';
    }
    if (owner.metadata?.uid !== ref.uid) {
      this.absentOwners.add(ref.uid);
      return 'dangling';
    }
    const om = owner.metadata ?? {};
    if (om.deletionTimestamp !== undefined && (om.finalizers ?? []).includes(FINALIZER_DELETE_DEPENDENTS)) {
      return 'waiting';
    }
    return 'solid';
  }

  // An owner deleting in the foreground: done once no dependent blocks it.
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = [...node.dependents].filter((dep) =>
      dep.owners.some((o) => o.uid === node.uid && o.blockOwnerDeletion === true),
    );
    if (blocking.length === 0) {
      await this.removeFinalizer(node, FINALIZER_DELETE_DEPENDENTS);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.attemptToDelete.add(dep.uid);
  }

  /** One attemptToOrphan item: dependents lose their reference, then the finalizer goes. */
  async processOrphan(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (node === undefined) return;
    for (const dep of [...node.dependents]) {
      const { client } = this.resourceClient(dep.apiVersion, dep.kind);
      await this.removeOwnerRefs(client, dep.namespace, dep.name, dep.uid, [uid]);
    }
    await this.removeFinalizer(node, FINALIZER_ORPHAN_DEPENDENTS);
  }

  private async removeOwnerRefs(
    client: ResourceClient<KubeObject>,
    namespace: string,
    name: string,
    uid: string,
    ownerUIDs: string[],
  ): Promise<void> {
    const patch = {
      metadata: { ownerReferences: ownerUIDs.map((u) => ({ $patch: 'delete', uid: u })), uid },
    };
    try {
      await client.patch(namespace, name, 'strategic', patch);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // A JSON merge patch of the finalizer list, guarded by the resourceVersion it was read at
  // (upstream's removeFinalizer): metadata-only reads cannot be written back whole.
  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const { client, namespaced } = this.resourceClient(node.apiVersion, node.kind);
    const ns = namespaced ? node.namespace : '';
    for (let attempt = 0; attempt < 5; attempt++) {
      let obj: KubeObject;
      try {
        obj = await client.get(ns, node.name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (obj.metadata?.uid !== node.uid) return;
      const fins = obj.metadata?.finalizers ?? [];
      if (!fins.includes(finalizer)) return;
      const patch = {
        metadata: {
          resourceVersion: obj.metadata?.resourceVersion,
          finalizers: fins.filter((f) => f !== finalizer),
        },
      };
      try {
        await client.patch(ns, node.name, 'merge', patch);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`removing finalizer ${finalizer} from ${node.kind} ${node.name}: too many conflicts`);
  }
}
