// The metav1.Table a `kubectl get` receives (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`)
// and the one function that builds it. As upstream's server-side printing does, every row
// carries the wide (`-o wide`, priority 1) cells too: kubectl drops the columns it does
// not show, so the server never needs to know whether the user asked for them.
import type { ResourceInfo } from '../../api/registry-types.js';
import type { KObject } from '../registry/object.js';
import { printerFor } from './registry.js';

/** One column of a Table (metav1.TableColumnDefinition). */
export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** A row condition; upstream only defines `Completed` (finished pods). */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** One row of a Table: cells in column order, and the object as `includeObject` asks. */
export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: unknown;
}

/** The list metadata a Table carries over from the list (or the single object) it prints. */
export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/**
 * metav1.Table. `columnDefinitions` is null when headers are omitted (watch events after
 * the first), as upstream's JSON has it: the field has no omitempty.
 */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
  metadata: TableListMeta;
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

/** What each row's `object` holds (the `includeObject` query parameter). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** What a printer may read besides the object. */
export interface PrintContext {
  /** The time AGE and other relative cells are measured from, in epoch milliseconds. */
  nowMs: number;
}

/** How one resource prints: its columns and, for each object, the cells in that order. */
export interface ResourcePrinter {
  readonly columns: readonly TableColumnDefinition[];
  /** The row's cells, wide (priority 1) cells included; one cell per column. */
  cells(obj: KObject, ctx: PrintContext): unknown[];
  /** Row conditions (finished pods are `Completed`). */
  conditions?(obj: KObject): TableRowCondition[] | undefined;
  /** Reorders a list before printing (FlowSchemas print in matching order). */
  order?(objects: readonly KObject[]): KObject[];
}

/** Options of buildTable. */
export interface BuildTableOptions {
  includeObject: IncludeObject;
  /** The clock for AGE cells. */
  now: Date;
  /** The meta.k8s.io version the client negotiated; `v1` unless told. */
  version?: 'v1' | 'v1beta1';
  /** Leave out the column definitions (`columnDefinitions: null`). */
  omitHeaders?: boolean;
  /**
   * Copied into the Table's metadata: the list's resourceVersion/continue/remainingItemCount,
   * or for a single-object GET that object's resourceVersion.
   */
  listMeta?: TableListMeta;
}

const ZERO_TIME_RFC3339 = '0001-01-01T00:00:00Z';

// Go's time.RFC3339 in UTC drops the fraction: 2024-01-02T03:04:05Z.
function rfc3339Seconds(ts: string | undefined): string {
  if (ts === undefined || ts === '') return ZERO_TIME_RFC3339;
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return ZERO_TIME_RFC3339;
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

/**
 * Upstream's DefaultTableConvertor, for resources without a printer of their own (Roles,
 * CRDs, LimitRanges, …): the name and the creation time as an RFC 3339 date.
 */
export const DEFAULT_PRINTER: ResourcePrinter = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
    {
      name: 'Created At',
      type: 'date',
      format: '',
      description: 'When the object was created.',
      priority: 0,
    },
  ],
  cells(obj) {
    const m = obj.metadata;
    return [m?.name ?? '', rfc3339Seconds(m?.creationTimestamp)];
  },
};

/** The printer for a resource (`group` is '' for the core group), or the default one. */
export function resourcePrinter(group: string, plural: string): ResourcePrinter {
  return printerFor(group, plural) ?? DEFAULT_PRINTER;
}

/** Builds a Table for objects of one resource. `now` drives AGE cells. */
export function buildTable(
  group: string,
  plural: string,
  objects: KObject[],
  opts: BuildTableOptions,
): Table {
  return buildTableWith(resourcePrinter(group, plural), objects, opts);
}

// Custom resources bring their printer with their ResourceInfo (additionalPrinterColumns);
// keyed by the info object, so each API server's custom resources stay its own.
const attached = new WeakMap<ResourceInfo, ResourcePrinter>();

/** Gives a resource (a custom resource version) its own printer. */
export function attachPrinter(r: ResourceInfo, printer: ResourcePrinter): void {
  attached.set(r, printer);
}

/** Builds a Table for objects of a resource, with its attached printer if it has one. */
export function buildTableFor(r: ResourceInfo, objects: KObject[], opts: BuildTableOptions): Table {
  return buildTableWith(attached.get(r) ?? resourcePrinter(r.group, r.plural), objects, opts);
}

/** Builds a Table with a given printer (custom resources bring their own columns). */
export function buildTableWith(
  printer: ResourcePrinter,
  objects: readonly KObject[],
  opts: BuildTableOptions,
): Table {
  const apiVersion = opts.version === 'v1beta1' ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1';
  const ctx: PrintContext = { nowMs: opts.now.getTime() };
  const items = printer.order !== undefined ? printer.order(objects) : objects;
  const include = opts.includeObject;
  const rows: TableRow[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const obj = items[i] as KObject;
    const row: TableRow = { cells: printer.cells(obj, ctx) };
    const conditions = printer.conditions?.(obj);
    if (conditions !== undefined) row.conditions = conditions;
    if (include === 'Object') row.object = obj;
    else if (include === 'Metadata') {
      row.object = { kind: 'PartialObjectMetadata', apiVersion, metadata: obj.metadata ?? {} };
    }
    rows[i] = row;
  }
  const metadata: TableListMeta = {};
  const lm = opts.listMeta;
  if (lm?.resourceVersion) metadata.resourceVersion = lm.resourceVersion;
  if (lm?.continue) metadata.continue = lm.continue;
  if (lm?.remainingItemCount !== undefined) metadata.remainingItemCount = lm.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion,
    metadata,
    columnDefinitions: opts.omitHeaders ? null : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
