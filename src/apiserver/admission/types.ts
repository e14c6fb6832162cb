// The admission plugin contract. A request passes every mutating plugin (in order), then
// validation, then every validating plugin (in order); a plugin denies by throwing a
// StatusError (usually 403 Forbidden or 422 Invalid, with upstream's message). Plugins see
// the request's user and may read cluster state through the StoreRegistry they are built
// with (the API server's own watch caches), never through HTTP.
import type { ResourceInfo } from '../../api/registry-types.js';
import type { UserInfo } from '../endpoints/scope.js';
import type { KObject } from '../registry/object.js';

/** The operation being admitted. */
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** One request as admission sees it (upstream admission.Attributes). */
export interface AdmissionRequest {
  operation: AdmissionOperation;
  resource: ResourceInfo;
  /** '' for the main resource. */
  subresource: string;
  namespace: string;
  name: string;
  /** The incoming object (CREATE/UPDATE), mutable by mutating plugins. */
  object: KObject | undefined;
  /** The stored object (UPDATE/DELETE). */
  oldObject: KObject | undefined;
  user: UserInfo;
  dryRun: boolean;
  /** Adds a `Warning` response header (PodSecurity warn mode, webhook warnings). */
  warn?: (message: string) => void;
}

/** A plugin that may change the object. */
export interface MutatingPlugin {
  /** Upstream plugin name (`ServiceAccount`, `LimitRanger`, …). */
  readonly name: string;
  admit(req: AdmissionRequest): Promise<void> | void;
}

/** A plugin that may only accept or deny. */
export interface ValidatingPlugin {
  readonly name: string;
  validate(req: AdmissionRequest): Promise<void> | void;
}

/** A plugin with a mutating phase, a validating phase, or both (upstream plugins often have both). */
export interface AdmissionPlugin {
  readonly name: string;
  admit?(req: AdmissionRequest): Promise<void> | void;
  validate?(req: AdmissionRequest): Promise<void> | void;
  /** Releases timers or connections the plugin holds. */
  close?(): void;
}
