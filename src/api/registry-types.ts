// The shape of the generated resource registry (src/api/generated/resources.ts). The API
// server routes, discovery documents, kubectl's short names and the RBAC defaults all come
// from this table, so its shape is a contract.

/** A subresource such as `status`, `scale`, `log`, `binding`. */
export interface SubresourceInfo {
  /** `status`, `scale`, `log`, `exec`, … */
  name: string;
  /** Kind of the object the subresource takes or returns (`Scale`, `Binding`, `Eviction`). */
  kind: string;
  /** Group and version of that kind when they differ from the parent's (e.g. autoscaling/v1 Scale). */
  group?: string;
  version?: string;
  /** Verbs allowed on the subresource: get, update, patch, create, connect. */
  verbs: string[];
}

/** One resource served at one group/version. */
export interface ResourceInfo {
  /** API group ('' for the core group). */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Lower-case plural used in URLs: `deployments`. */
  plural: string;
  /** Lower-case singular: `deployment`. */
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Verbs of the main resource: create, delete, deletecollection, get, list, patch, update, watch. */
  verbs: string[];
  subresources: SubresourceInfo[];
  /** The schema table's definition name of the kind. */
  definition: string;
}

/** One API group with its served versions, newest preferred first. */
export interface GroupInfo {
  /** '' for the core (legacy) group. */
  name: string;
  versions: string[];
  preferredVersion: string;
}
