// A Strategy holds the little that differs per resource (upstream's RESTCreateStrategy,
// RESTUpdateStrategy, RESTDeleteStrategy): what create and update may touch, whether
// generation is tracked, which fields are selectable, how deletion is graceful. Everything
// else lives once, in the generic Store.
import type { FieldError } from '../../machinery/status-error.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import type { KObject } from './object.js';

/** Per-request context handed to strategy hooks. */
export interface StrategyContext {
  namespace: string;
  /** Warnings to return in `Warning` headers. */
  warnings: string[];
  now: Date;
  /** The write is a dry run: hooks must not leave side effects (allocations) behind. */
  dryRun?: boolean;
}

/** Options of a delete as the Store passes them to `gracefulDelete`. */
export interface GracefulDeleteInput {
  gracePeriodSeconds?: number;
}

/** The per-resource behaviour of the generic Store. */
export interface Strategy {
  readonly resource: ResourceInfo;
  /** The resource has a `status` subresource: main-resource writes keep status, status writes keep the rest. */
  readonly statusSubresource: boolean;
  /** metadata.generation is set on create and bumped when anything outside metadata/status changes. */
  readonly tracksGeneration: boolean;
  /** PUT of a missing object creates it (Endpoints, Events, Leases … as upstream). */
  readonly allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion is allowed (last write wins). */
  readonly allowUnconditionalUpdate: boolean;
  /** Resets fields the client may not set on create (status of most kinds); may allocate (async). */
  prepareForCreate(obj: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Carries over what a main-resource update may not change (status); may allocate (async). */
  prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Carries over what a status update may not change (spec, labels). */
  prepareForStatusUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** Extra semantic validation beyond the shared validators (allocation results, …). */
  validate?(obj: KObject, ctx: StrategyContext): FieldError[];
  /** Extra update validation. */
  validateUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[];
  /** Warnings for a valid new object (upstream WarningsOnCreate), sent before admission validates. */
  warningsOnCreate?(obj: KObject, ctx: StrategyContext): string[];
  /** Warnings for a valid main-resource update (upstream WarningsOnUpdate); status writes get none. */
  warningsOnUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): string[];
  /** Field-selector values beyond metadata.name/namespace (`spec.nodeName`, `status.phase`, …). */
  selectableFields(obj: KObject): Record<string, string>;
  /** The 400 message for a field label the kind does not support, when its conversion words it its own way. */
  unsupportedFieldLabel?(label: string): string;
  /**
   * Whether a delete should set deletionTimestamp and wait (pods on a node) and for how
   * long; `undefined` deletes at once unless finalizers hold the object.
   */
  gracefulDelete?(obj: KObject, input: GracefulDeleteInput): number | undefined;
  /** True while something other than metadata.finalizers holds a deleting object (namespace spec.finalizers). */
  holdsDeletion?(obj: KObject): boolean;
  /** Undoes side effects of prepareForCreate when the create fails or is a dry run. */
  rollbackCreate?(obj: KObject): void;
  /** Called after an object is removed from storage (releases allocations). */
  afterDelete?(obj: KObject): void;
  /** Called after a main-resource update is stored (releases what the old object held alone). */
  afterUpdate?(obj: KObject, old: KObject): void;
  /** Called when a delete starts (deletionTimestamp set) — namespaces flip to Terminating. */
  beginDelete?(obj: KObject, ctx: StrategyContext): void;
}

function topLevelSpecKeys(obj: KObject): string[] {
  return Object.keys(obj).filter(
    (k) => k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind',
  );
}

/** Copies every top-level field except metadata/status from `from` into `to`. */
export function copySpecFields(to: KObject, from: KObject): void {
  for (const k of topLevelSpecKeys(to)) delete to[k];
  for (const k of topLevelSpecKeys(from)) to[k] = from[k];
}

/** The strategy most resources use, tuned by a few flags. */
export class DefaultStrategy implements Strategy {
  readonly statusSubresource: boolean;
  readonly tracksGeneration: boolean;
  readonly allowCreateOnUpdate: boolean;
  readonly allowUnconditionalUpdate: boolean;
  /** Status set by the client on create is kept (nodes register with their status). */
  protected readonly keepStatusOnCreate: boolean;

  constructor(
    readonly resource: ResourceInfo,
    opts: {
      tracksGeneration?: boolean;
      allowCreateOnUpdate?: boolean;
      allowUnconditionalUpdate?: boolean;
      keepStatusOnCreate?: boolean;
    } = {},
  ) {
    this.statusSubresource = resource.subresources.some((s) => s.name === 'status');
    this.tracksGeneration = opts.tracksGeneration ?? false;
    this.allowCreateOnUpdate = opts.allowCreateOnUpdate ?? false;
    this.allowUnconditionalUpdate = opts.allowUnconditionalUpdate ?? true;
    this.keepStatusOnCreate = opts.keepStatusOnCreate ?? false;
  }

  prepareForCreate(obj: KObject, _ctx: StrategyContext): void {
    // Upstream resets status to its zero struct, which serialises as `{}`.
    if (this.statusSubresource && !this.keepStatusOnCreate) obj.status = {};
  }

  prepareForUpdate(obj: KObject, old: KObject, _ctx: StrategyContext): void {
    if (!this.statusSubresource) return;
    if (old.status === undefined) delete obj.status;
    else obj.status = old.status;
  }

  prepareForStatusUpdate(obj: KObject, old: KObject, _ctx: StrategyContext): void {
    copySpecFields(obj, old);
    if (obj.metadata && old.metadata) {
      if (old.metadata.labels === undefined) delete obj.metadata.labels;
      else obj.metadata.labels = old.metadata.labels;
    }
  }

  selectableFields(_obj: KObject): Record<string, string> {
    return {};
  }
}
