// A Client backed by an in-memory ObjectTracker (client-go's fake clientset), so
// controller unit tests run without an API server. Every call is recorded as an Action;
// reactors registered with `prependReactor` see each action first and may answer it
// (return an object or throw an error), which is how tests inject faults such as a 409 on
// update or a 410 on list/watch.
import {
  applyJSONPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  patchSchemaForGVK,
} from '../../machinery/patch/index.js';
import type { StatusError } from '../../machinery/status-error.js';
import type {
  Client,
  DeleteOptions,
  GetOptions,
  GroupVersionResource,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  ResourceClient,
  TypedGVR,
  WatchEvent,
  WriteOptions,
} from '../interface.js';
import { errorEvent, ObjectTracker } from './object-tracker.js';

/** Verbs recorded by the fake. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** One recorded call. */
export interface Action {
  verb: Verb;
  resource: GroupVersionResource;
  namespace: string;
  name?: string;
  subresource?: string;
  object?: unknown;
  patchType?: PatchType;
  options?: unknown;
}

/**
 * Answers an action: return `{ handled: true, result }` to short-circuit it, throw a
 * StatusError to fail it, or return undefined to pass it on.
 */
export type Reactor = (action: Action) => { handled: true; result?: unknown } | undefined;

/** A reactor for watches: return events to serve instead of the tracker's stream. */
export type WatchReactor = (action: Action) => AsyncIterable<WatchEvent<KubeObject>> | undefined;

interface RegisteredReactor<R> {
  verb: Verb | '*';
  resource: string;
  fn: R;
}

/** The fake API client. */
export class FakeClient implements Client {
  /** The objects behind the fake. */
  readonly tracker = new ObjectTracker();
  private readonly recorded: Action[] = [];
  private readonly reactors: Array<RegisteredReactor<Reactor>> = [];
  private readonly watchReactors: Array<RegisteredReactor<WatchReactor>> = [];

  /** A fake holding `objects` (created in order; each needs apiVersion/kind or an explicit gvr). */
  constructor(objects: Array<{ gvr: GroupVersionResource; object: KubeObject }> = []) {
    for (const o of objects) this.tracker.create(o.gvr, o.object.metadata?.namespace ?? '', o.object);
  }

  resource<T extends KubeObject = KubeObject>(gvr: TypedGVR<T>): ResourceClient<T> {
    return new FakeResourceClient<T>(this, gvr);
  }

  /** Every recorded action, oldest first. */
  actions(): Action[] {
    return [...this.recorded];
  }

  /** Forgets recorded actions. */
  clearActions(): void {
    this.recorded.length = 0;
  }

  /** Registers a reactor that runs before earlier ones (`'*'` matches any verb or resource). */
  prependReactor(verb: Verb | '*', resource: string, fn: Reactor): void {
    this.reactors.unshift({ verb, resource, fn });
  }

  /** Registers a watch reactor. */
  prependWatchReactor(resource: string, fn: WatchReactor): void {
    this.watchReactors.unshift({ verb: 'watch', resource, fn });
  }

  /** Records the action and runs reactors; returns the reactor's answer, if any. */
  invoke(action: Action): { handled: true; result?: unknown } | undefined {
    this.recorded.push(action);
    for (const r of this.reactors) {
      if (!matches(r, action)) continue;
      const res = r.fn(action);
      if (res !== undefined) return res;
    }
    return undefined;
  }

  /** Runs watch reactors for a (recorded) watch action. */
  invokeWatch(action: Action): AsyncIterable<WatchEvent<KubeObject>> | undefined {
    for (const r of this.watchReactors) {
      if (!matches(r, action)) continue;
      const res = r.fn(action);
      if (res !== undefined) return res;
    }
    return undefined;
  }
}

function matches<R>(r: RegisteredReactor<R>, a: Action): boolean {
  return (r.verb === '*' || r.verb === a.verb) && (r.resource === '*' || r.resource === a.resource.resource);
}

/** ResourceClient over the fake's tracker. Calls are async like the real client's. */
export class FakeResourceClient<T extends KubeObject> implements ResourceClient<T> {
  /** Verbs of `gvr` on `fake`. */
  constructor(
    private readonly fake: FakeClient,
    readonly gvr: GroupVersionResource,
  ) {}

  async get(namespace: string, name: string, opts: GetOptions = {}): Promise<T> {
    const r = this.fake.invoke({
      verb: 'get',
      resource: this.gvr,
      namespace,
      name,
      options: opts,
      ...(opts.subresource !== undefined ? { subresource: opts.subresource } : {}),
    });
    if (r !== undefined) return r.result as T;
    return this.fake.tracker.get<T>(this.gvr, namespace, name);
  }

  async list(namespace: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const r = this.fake.invoke({ verb: 'list', resource: this.gvr, namespace, options: opts });
    if (r !== undefined) return r.result as ObjectList<T>;
    return this.fake.tracker.list<T>(this.gvr, namespace, opts);
  }

  watch(namespace: string, opts: ListOptions = {}): AsyncIterable<WatchEvent<T>> {
    const fake = this.fake;
    const gvr = this.gvr;
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<WatchEvent<T>> => {
        const action: Action = { verb: 'watch', resource: gvr, namespace, options: opts };
        let answered: { handled: true; result?: unknown } | undefined;
        let failure: unknown;
        try {
          answered = fake.invoke(action);
        } catch (err) {
          failure = err;
        }
        if (failure !== undefined) return failingIterator(failure);
        if (answered !== undefined)
          return (answered.result as AsyncIterable<WatchEvent<T>>)[Symbol.asyncIterator]();
        const custom = fake.invokeWatch(action);
        if (custom !== undefined) return (custom as AsyncIterable<WatchEvent<T>>)[Symbol.asyncIterator]();
        return trackerWatch<T>(fake.tracker, gvr, namespace, opts);
      },
    };
  }

  async create(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    const r = this.fake.invoke({
      verb: 'create',
      resource: this.gvr,
      namespace,
      name: obj.metadata?.name ?? '',
      object: obj,
      options: opts,
      ...(opts.subresource !== undefined ? { subresource: opts.subresource } : {}),
    });
    if (r !== undefined) return r.result as T;
    if (opts.subresource !== undefined) return obj;
    if (opts.dryRun) return obj;
    return this.fake.tracker.create<T>(this.gvr, namespace, obj);
  }

  async update(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    const r = this.fake.invoke({
      verb: 'update',
      resource: this.gvr,
      namespace,
      name: obj.metadata?.name ?? '',
      object: obj,
      options: opts,
      ...(opts.subresource !== undefined ? { subresource: opts.subresource } : {}),
    });
    if (r !== undefined) return r.result as T;
    if (opts.dryRun) return obj;
    return this.fake.tracker.update<T>(this.gvr, namespace, obj, opts.subresource === 'status');
  }

  updateStatus(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.update(namespace, obj, { ...opts, subresource: 'status' });
  }

  async patch(
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    const r = this.fake.invoke({
      verb: 'patch',
      resource: this.gvr,
      namespace,
      name,
      object: body,
      patchType: type,
      options: opts,
      ...(opts.subresource !== undefined ? { subresource: opts.subresource } : {}),
    });
    if (r !== undefined) return r.result as T;
    let current: T;
    try {
      current = this.fake.tracker.get<T>(this.gvr, namespace, name);
    } catch (err) {
      // Server-side apply creates missing objects.
      if (type === 'apply' && (err as StatusError).reason === 'NotFound') {
        return this.fake.tracker.create<T>(this.gvr, namespace, body as T);
      }
      throw err;
    }
    const patched = this.applyPatch(current, type, body) as T;
    if (opts.dryRun) return patched;
    return this.fake.tracker.replaceExisting(this.gvr, namespace, name, patched) as T;
  }

  async delete(namespace: string, name: string, opts: DeleteOptions = {}): Promise<void> {
    const r = this.fake.invoke({ verb: 'delete', resource: this.gvr, namespace, name, options: opts });
    if (r !== undefined || opts.dryRun) return;
    this.fake.tracker.delete(this.gvr, namespace, name, opts.preconditions);
  }

  async deleteCollection(namespace: string, opts: DeleteOptions & ListOptions = {}): Promise<void> {
    const r = this.fake.invoke({ verb: 'deletecollection', resource: this.gvr, namespace, options: opts });
    if (r !== undefined || opts.dryRun) return;
    const list = this.fake.tracker.list<T>(this.gvr, namespace, opts);
    for (const o of list.items)
      this.fake.tracker.delete(this.gvr, o.metadata?.namespace ?? '', o.metadata?.name ?? '');
  }

  private applyPatch(current: T, type: PatchType, body: unknown): unknown {
    switch (type) {
      case 'json':
        return applyJSONPatch(current, body);
      case 'merge':
      case 'apply':
        // Apply is approximated by a merge patch: field ownership is the real server's job.
        return applyMergePatch(current, body);
      case 'strategic': {
        const info = this.fake.tracker.info(this.gvr);
        const schema = patchSchemaForGVK({
          group: this.gvr.group,
          version: this.gvr.version,
          kind: info.kind,
        });
        return applyStrategicMergePatch(current, body, schema);
      }
    }
  }
}

function failingIterator<T>(err: unknown): AsyncIterator<T> {
  return {
    next: () => Promise.reject(err),
    return: () => Promise.resolve({ done: true, value: undefined }),
  };
}

// Adapts the tracker's push-style watch to an async iterator that ends on abort.
function trackerWatch<T>(
  tracker: ObjectTracker,
  gvr: GroupVersionResource,
  namespace: string,
  opts: ListOptions,
): AsyncIterator<WatchEvent<T>> {
  const buffer: Array<WatchEvent<T>> = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let unsubscribe: () => void = () => {};
  const finish = (): void => {
    closed = true;
    unsubscribe();
    opts.signal?.removeEventListener('abort', onAbort);
    notify();
  };
  const onAbort = (): void => {
    buffer.length = 0;
    finish();
  };
  if (opts.signal?.aborted) closed = true;
  else {
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      unsubscribe = tracker.watch(gvr, namespace, opts, {
        push: (ev) => {
          buffer.push(ev as WatchEvent<T>);
          notify();
        },
        close: finish,
      });
    } catch (err) {
      buffer.push(errorEvent(err as StatusError));
      closed = true;
    }
  }
  return {
    async next(): Promise<IteratorResult<WatchEvent<T>>> {
      for (;;) {
        const ev = buffer.shift();
        if (ev !== undefined) return { done: false, value: ev };
        if (closed) return { done: true, value: undefined };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<WatchEvent<T>>> {
      finish();
      return { done: true, value: undefined };
    },
  };
}
