// A bound on the kubelet's concurrent API requests. The REST client speaks HTTP/1.1 with
// keep-alive, so every request in flight at once takes a connection of its own: a burst of
// 100 new pods (a TokenRequest, a ConfigMap read and a status patch each) would open ~100
// TLS connections, each a full handshake on the kubelet and on the API server, and that CPU
// is what the pods then wait behind. Upstream's client-go multiplexes every request over one
// HTTP/2 connection; a few slots give the same effect here — the burst reuses a handful of
// warm connections and queues (FIFO) for them. Watches hold no slot: they last as long as
// the kubelet.

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
} from '../client/interface.js';
import { Semaphore } from './object-cache.js';

/** The kubelet's default number of API requests in flight at once. */
export const DEFAULT_API_REQUEST_SLOTS = 8;

class LimitedResourceClient<T extends KubeObject> implements ResourceClient<T> {
  readonly gvr: GroupVersionResource;

  constructor(
    private readonly inner: ResourceClient<T>,
    private readonly slots: Semaphore,
  ) {
    this.gvr = inner.gvr;
  }

  get(namespace: string, name: string, opts?: GetOptions): Promise<T> {
    return this.slots.run(() => this.inner.get(namespace, name, opts));
  }

  list(namespace: string, opts?: ListOptions): Promise<ObjectList<T>> {
    return this.slots.run(() => this.inner.list(namespace, opts));
  }

  watch(namespace: string, opts?: ListOptions): AsyncIterable<WatchEvent<T>> {
    return this.inner.watch(namespace, opts);
  }

  create(namespace: string, obj: T, opts?: WriteOptions): Promise<T> {
    return this.slots.run(() => this.inner.create(namespace, obj, opts));
  }

  update(namespace: string, obj: T, opts?: WriteOptions): Promise<T> {
    return this.slots.run(() => this.inner.update(namespace, obj, opts));
  }

  updateStatus(namespace: string, obj: T, opts?: WriteOptions): Promise<T> {
    return this.slots.run(() => this.inner.updateStatus(namespace, obj, opts));
  }

  patch(namespace: string, name: string, type: PatchType, body: unknown, opts?: PatchOptions): Promise<T> {
    return this.slots.run(() => this.inner.patch(namespace, name, type, body, opts));
  }

  delete(namespace: string, name: string, opts?: DeleteOptions): Promise<void> {
    return this.slots.run(() => this.inner.delete(namespace, name, opts));
  }

  deleteCollection(namespace: string, opts?: DeleteOptions & ListOptions): Promise<void> {
    return this.slots.run(() => this.inner.deleteCollection(namespace, opts));
  }
}

/**
 * `client` with at most `slots` (at least 1) non-watch requests in flight at once; given a
 * Semaphore, it is shared (its holder can queue work of its own behind the same slots).
 */
export function limitRequests(client: Client, slots: number | Semaphore = DEFAULT_API_REQUEST_SLOTS): Client {
  const semaphore = typeof slots === 'number' ? new Semaphore(slots) : slots;
  return {
    resource<T extends KubeObject = KubeObject>(gvr: TypedGVR<T>): ResourceClient<T> {
      return new LimitedResourceClient<T>(client.resource(gvr), semaphore);
    },
  };
}
