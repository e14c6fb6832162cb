// The client contract every component codes against (client-go's dynamic client shape,
// typed by generics): `client.resource(gvr)` gives a ResourceClient for one
// group/version/resource with get/list/watch/create/update/patch/delete. The REST client
// (rest-client.ts) and the in-memory fake (testing/fake-client.ts) both implement it, so a
// controller unit test swaps one for the other. Namespace is always an explicit argument:
// '' means all namespaces (list/watch) or a cluster-scoped resource.
import type { ListMeta, ObjectMeta } from '../api/generated/types/meta-v1.js';
import type { Status, StatusError } from '../machinery/status-error.js';

/** Identifies a resource: group ('' for core), version and lower-case plural. */
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** A GVR that also names the TypeScript type of its objects (a phantom type). */
export interface TypedGVR<T> extends GroupVersionResource {
  /** Never set; carries T for inference. */
  readonly __type?: T;
}

/** Builds a typed GVR. */
export function gvr<T extends KubeObject = KubeObject>(
  group: string,
  version: string,
  resource: string,
): TypedGVR<T> {
  return { group, version, resource };
}

/** `resource.group` or `resource` (a GVR's group-resource for messages). */
export function gvrString(r: GroupVersionResource): string {
  return r.group === '' ? `${r.resource}/${r.version}` : `${r.resource}.${r.version}.${r.group}`;
}

/** Any API object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A list response. */
export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

/** Watch event types (metav1.WatchEvent). */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * One watch event. An ERROR event carries the server's Status and the same decoded as a
 * StatusError (410 Expired when the resourceVersion is too old), so callers can use the
 * predicates (`isResourceExpired(ev.error)`).
 */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: Status; error: StatusError };

/** Options shared by every call. */
export interface CallOptions {
  /** Aborts the request (and ends a watch). */
  signal?: AbortSignal;
}

/** metav1.GetOptions. */
export interface GetOptions extends CallOptions {
  resourceVersion?: string;
  /** Read a subresource instead (`scale`, `status`). */
  subresource?: string;
}

/** metav1.ListOptions (list and watch). */
export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

/** Options of create/update/patch. */
export interface WriteOptions extends CallOptions {
  /** Server-side dry run (`dryRun=All`). */
  dryRun?: boolean;
  fieldManager?: string;
  /** `Ignore`, `Warn` or `Strict`. */
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
  /** Write a subresource instead (`status`, `scale`, …). */
  subresource?: string;
}

/** Options of patch. */
export interface PatchOptions extends WriteOptions {
  /** Take ownership of conflicting fields (server-side apply only). */
  force?: boolean;
}

/** metav1.DeleteOptions. */
export interface DeleteOptions extends CallOptions {
  dryRun?: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** The patch formats of the API. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** Content type of each patch format. */
export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** The verbs on one resource. */
export interface ResourceClient<T extends KubeObject> {
  /** The resource this client talks to. */
  readonly gvr: GroupVersionResource;
  /** Reads one object. */
  get(namespace: string, name: string, opts?: GetOptions): Promise<T>;
  /** Lists objects ('' namespace: all namespaces). */
  list(namespace: string, opts?: ListOptions): Promise<ObjectList<T>>;
  /** Streams changes; ends when the server closes the stream or `opts.signal` aborts. */
  watch(namespace: string, opts?: ListOptions): AsyncIterable<WatchEvent<T>>;
  /** Creates obj (or POSTs to a subresource of `obj.metadata.name`, e.g. `binding`). */
  create(namespace: string, obj: T, opts?: WriteOptions): Promise<T>;
  /** Replaces obj (optimistic concurrency on metadata.resourceVersion). */
  update(namespace: string, obj: T, opts?: WriteOptions): Promise<T>;
  /** Replaces obj's status subresource. */
  updateStatus(namespace: string, obj: T, opts?: WriteOptions): Promise<T>;
  /** Patches an object; for 'apply' the body is the applied configuration. */
  patch(namespace: string, name: string, type: PatchType, body: unknown, opts?: PatchOptions): Promise<T>;
  /** Deletes an object (resolves once the API server accepted the deletion). */
  delete(namespace: string, name: string, opts?: DeleteOptions): Promise<void>;
  /** Deletes every object matching the list options. */
  deleteCollection(namespace: string, opts?: DeleteOptions & ListOptions): Promise<void>;
}

/** A client of the whole API. */
export interface Client {
  /** The client of one resource. */
  resource<T extends KubeObject = KubeObject>(gvr: TypedGVR<T>): ResourceClient<T>;
}

/** The URL path of a resource collection or object (`/api/v1/namespaces/ns/pods/name/status`). */
export function resourcePath(
  r: GroupVersionResource,
  namespace: string,
  name?: string,
  subresource?: string,
): string {
  let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (namespace !== '') p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.resource}`;
  if (name !== undefined && name !== '') {
    p += `/${encodeURIComponent(name)}`;
    if (subresource !== undefined && subresource !== '') p += `/${subresource}`;
  }
  return p;
}
