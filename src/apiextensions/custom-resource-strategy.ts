// How custom objects are created, updated and printed (upstream's customresource strategy,
// status strategy and table convertor): status belongs to the status subresource when the
// version declares one; metadata.generation follows spec changes (every non-metadata change
// without a status subresource); objects are validated against the version's schema and
// defaulted from it; selectable fields come from spec.selectableFields; Tables from
// additionalPrinterColumns (or NAME/AGE).
import type { CustomResourceDefinitionVersion } from '../api/generated/types/apiextensions-v1.js';
import type { ResourceInfo } from '../api/registry-types.js';
import { validateObject, validateObjectUpdate } from '../api/validation/index.js';
import { updateManagedFields } from '../machinery/apply/index.js';
import type { FieldError } from '../machinery/status-error.js';
import { parseTime, since } from '../apiserver/printers/format.js';
import {
  DEFAULT_PRINTER,
  type ResourcePrinter,
  type TableColumnDefinition,
} from '../apiserver/printers/index.js';
import { jsonEqual, type KObject } from '../apiserver/registry/object.js';
import type { ObjectHooks, WriteOptions } from '../apiserver/registry/store.js';
import { copySpecFields, type Strategy, type StrategyContext } from '../apiserver/registry/strategy.js';
import { findResults, parseJSONPath, printResult } from './jsonpath.js';
import type { CustomResourceSchema } from './schema/index.js';

function nonSpecChanged(a: KObject, b: KObject, ignoreStatus: boolean): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
    if (ignoreStatus && k === 'status') continue;
    if (!jsonEqual(a[k], b[k])) return true;
  }
  return false;
}

/** The Strategy of one served version of a custom resource. */
export class CustomResourceStrategy implements Strategy {
  readonly statusSubresource: boolean;
  readonly tracksGeneration = true;
  readonly allowCreateOnUpdate = false;
  // Upstream's customResourceStrategy: a PUT must carry metadata.resourceVersion.
  readonly allowUnconditionalUpdate = false;
  private readonly selectable: Array<{ name: string; path: ReturnType<typeof parseJSONPath> }>;

  constructor(
    readonly resource: ResourceInfo,
    version: CustomResourceDefinitionVersion,
    private readonly schema: CustomResourceSchema | undefined,
  ) {
    this.statusSubresource = version.subresources?.status !== undefined;
    this.selectable = (version.selectableFields ?? []).map((f) => ({
      name: f.jsonPath.replace(/^\./, ''),
      path: parseJSONPath(f.jsonPath),
    }));
  }

  prepareForCreate(obj: KObject, _ctx: StrategyContext): void {
    if (this.statusSubresource) delete obj.status;
  }

  prepareForUpdate(obj: KObject, old: KObject, _ctx: StrategyContext): void {
    if (this.statusSubresource) {
      if (old.status === undefined) delete obj.status;
      else obj.status = old.status;
      return;
    }
    // Without a status subresource status is an ordinary field: any change of it is a new
    // generation too (the Store bumps for the other fields).
    if (!nonSpecChanged(obj, old, true) && nonSpecChanged(obj, old, false) && obj.metadata) {
      obj.metadata.generation = (old.metadata?.generation ?? 0) + 1;
    }
  }

  prepareForStatusUpdate(obj: KObject, old: KObject, _ctx: StrategyContext): void {
    // Only status (and the managedFields tracking it) changes through /status.
    copySpecFields(obj, old);
    const mf = obj.metadata?.managedFields;
    const rv = obj.metadata?.resourceVersion;
    obj.metadata = { ...structuredClone(old.metadata ?? {}) };
    if (rv !== undefined) obj.metadata.resourceVersion = rv;
    if (mf !== undefined) obj.metadata.managedFields = mf;
    else delete obj.metadata.managedFields;
  }

  validate(obj: KObject, ctx: StrategyContext): FieldError[] {
    return this.schemaErrors(obj, undefined, ctx);
  }

  validateUpdate(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[] {
    return this.schemaErrors(obj, old, ctx);
  }

  private schemaErrors(obj: KObject, old: KObject | undefined, ctx: StrategyContext): FieldError[] {
    if (!this.schema) return [];
    // metadata is checked by the shared ObjectMeta validation, not the CRD's schema.
    return this.schema
      .validate(obj as Record<string, unknown>, old as Record<string, unknown> | undefined, ctx.warnings)
      .filter((e) => !e.field.startsWith('metadata.'));
  }

  selectableFields(obj: KObject): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.selectable) {
      const v = f.path ? findResults(f.path, obj)[0] : undefined;
      out[f.name] = v === undefined || v === null ? '' : printResult(v);
    }
    return out;
  }
}

/**
 * The ObjectHooks of a custom resource: defaulting from its schema, ObjectMeta validation
 * (names are DNS-1123 subdomains), and managedFields typed by its schema definition.
 */
export function customResourceHooks(
  schema: CustomResourceSchema | undefined,
  definition: string | undefined,
  now: () => Date = () => new Date(),
): ObjectHooks {
  return {
    defaults(obj: KObject): void {
      schema?.applyDefaults(obj as Record<string, unknown>);
    },
    validate(obj: KObject, r: ResourceInfo) {
      return validateObject(
        obj,
        { group: r.group, version: r.version, kind: r.kind },
        { namespaced: r.namespaced },
      );
    },
    validateUpdate(obj: KObject, old: KObject, r: ResourceInfo) {
      return validateObjectUpdate(obj, old, { group: r.group, version: r.version, kind: r.kind });
    },
    trackManagedFields(old: KObject | undefined, obj: KObject, r: ResourceInfo, wo: WriteOptions): void {
      const out = updateManagedFields(old, obj, {
        manager: wo.fieldManager,
        apiVersion: `${r.group}/${r.version}`,
        schema: definition !== undefined ? { ref: definition } : undefined,
        now: now(),
        ...(wo.subresource ? { subresource: wo.subresource } : {}),
      });
      const mf = out.managedFields as NonNullable<KObject['metadata']>['managedFields'];
      if (obj.metadata === undefined) obj.metadata = {};
      if (mf === undefined || mf.length === 0) delete obj.metadata.managedFields;
      else obj.metadata.managedFields = mf;
    },
  };
}

// Upstream's cellForJSONValue: typed cells; a `date` becomes an age (`5m`) like AGE columns.
function cellFor(type: string, v: unknown, nowMs: number): unknown {
  switch (type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? v : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      return typeof v === 'string' && parseTime(v) !== undefined ? since(v, nowMs) : null;
    case 'string':
      return printResult(v);
    default:
      return null;
  }
}

/** The Table printer of a CRD version: NAME, then additionalPrinterColumns (AGE by default). */
export function customResourcePrinter(version: CustomResourceDefinitionVersion): ResourcePrinter {
  const defs =
    version.additionalPrinterColumns !== undefined && version.additionalPrinterColumns.length > 0
      ? version.additionalPrinterColumns
      : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: '' }];
  const nameColumn = DEFAULT_PRINTER.columns[0]!;
  const columns: TableColumnDefinition[] = [
    { ...nameColumn },
    ...defs.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
  ];
  const paths = defs.map((c) => ({ type: c.type, path: parseJSONPath(c.jsonPath) }));
  return {
    columns,
    cells(obj, ctx) {
      const cells: unknown[] = [obj.metadata?.name ?? ''];
      for (const p of paths) {
        const found = p.path ? findResults(p.path, obj) : [];
        cells.push(found.length === 0 ? null : cellFor(p.type, found[0], ctx.nowMs));
      }
      return cells;
    },
  };
}
