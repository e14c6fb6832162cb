// The metadata-only client (client-go's k8s.io/client-go/metadata): the same verbs as the
// REST client, but the server answers with PartialObjectMetadata (a single object or a
// watch event) and PartialObjectMetadataList (a list) — kind, apiVersion and metadata, no
// spec or status. Consumers that only follow metadata (the garbage collector reads owner
// references, finalizers and deletion timestamps of every object in the cluster) then hold
// and decode a fraction of the bytes, and an informer over it caches only metadata.
//
// Objects it returns are PartialObjectMetadata whatever type parameter a caller names: use
// it with `KubeObject` (what `gvr()` gives by default) or PartialObjectMetadata. Writes
// (patch, delete) go to the resource as usual; their responses are metadata only, too.
import type { ObjectMeta } from '../api/generated/types/meta-v1.js';
import type { Client, KubeObject, ResourceClient, TypedGVR } from './interface.js';
import { RestResourceClient } from './resource-client.js';
import { RestClient } from './rest-client.js';

/** metav1.PartialObjectMetadata: an object's type and metadata only. */
export interface PartialObjectMetadata extends KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** Accept header for one object or watch events as PartialObjectMetadata. */
export const PARTIAL_OBJECT_METADATA_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Accept header for a list as PartialObjectMetadataList. */
export const PARTIAL_OBJECT_METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** A Client whose resources answer with metadata only. */
export class MetadataClient implements Client {
  /** Metadata-only verbs over the connection (and identity) of `rest`. */
  constructor(private readonly rest: RestClient) {}

  /** The metadata-only verbs of one resource. */
  resource<T extends KubeObject = PartialObjectMetadata>(gvr: TypedGVR<T>): ResourceClient<T> {
    return new RestResourceClient<T>(this.rest, gvr, {
      object: PARTIAL_OBJECT_METADATA_ACCEPT,
      list: PARTIAL_OBJECT_METADATA_LIST_ACCEPT,
    });
  }
}

/**
 * The metadata client over `client` when it talks HTTP; any other Client (a test fake) is
 * returned as is, since full objects carry the same metadata.
 */
export function metadataClientFor(client: Client): Client {
  return client instanceof RestClient ? new MetadataClient(client) : client;
}
