// Cell formatting shared by the printers: ages, label sets and selectors, container lists,
// quantities and the `<none>`/`<unset>` conventions of upstream's printers. Objects come
// from storage as JSON, so every reader here tolerates missing or mistyped fields.
import type { LabelSelector } from '../../machinery/labels/index.js';
import { formatLabelSelector, formatLabels, labelSelectorAsSelector } from '../../machinery/labels/index.js';
import { humanDuration } from '../../machinery/duration.js';
import { canonicalQuantity } from '../../machinery/quantity.js';
import type { KObject } from '../registry/object.js';
import type { TableColumnDefinition } from './table.js';

export { formatLabels };

/** A column definition; `wide` columns (priority 1) show only with `-o wide`. */
export function column(
  name: string,
  type: string,
  description: string,
  opts: { format?: string; wide?: boolean } = {},
): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.wide ? 1 : 0 };
}

/** The `Name` column every printer starts with. */
export const NAME_COLUMN: TableColumnDefinition = column('Name', 'string', 'Name of the object.', {
  format: 'name',
});

/** The `Age` column. */
export const AGE_COLUMN: TableColumnDefinition = column(
  'Age',
  'string',
  'Time since the object was created.',
);

/** An RFC 3339 time in epoch milliseconds; undefined when missing or unparsable (Go's zero time). */
export function parseTime(ts: unknown): number | undefined {
  if (typeof ts !== 'string' || ts === '') return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** upstream's translateTimestampSince: `<unknown>` for a zero time, else the human age. */
export function since(ts: unknown, nowMs: number): string {
  const t = parseTime(ts);
  return t === undefined ? '<unknown>' : humanDuration(nowMs - t);
}

/** The AGE cell of an object. */
export function age(obj: KObject, nowMs: number): string {
  return since(obj.metadata?.creationTimestamp, nowMs);
}

/** The object's name. */
export function nameOf(obj: KObject): string {
  return obj.metadata?.name ?? '';
}

/** A string field, '' when absent. */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** An integer field, 0 when absent. */
export function int(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** An array field, [] when absent. */
export function arr<T>(v: T[] | undefined | null): T[] {
  return Array.isArray(v) ? v : [];
}

/** The number of keys of a map field. */
export function countKeys(v: unknown): number {
  return typeof v === 'object' && v !== null ? Object.keys(v).length : 0;
}

/** A label selector as kubectl prints it (`<none>` when empty, `<error>` when invalid). */
export function selectorCell(ls: LabelSelector | null | undefined): string {
  return formatLabelSelector(ls);
}

/** A label selector as Deployments print it: '' when empty, `<invalid>` when invalid. */
export function rawSelectorCell(ls: LabelSelector | null | undefined): string {
  try {
    return labelSelectorAsSelector(ls).toString();
  } catch {
    return '<invalid>';
  }
}

/** Container names and images, each comma-joined (upstream's layoutContainerCells). */
export function containerCells(
  containers: readonly { name?: string; image?: string }[] | undefined,
): [string, string] {
  if (containers === undefined || !Array.isArray(containers)) return ['', ''];
  let names = '';
  let images = '';
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    if (i > 0) {
      names += ',';
      images += ',';
    }
    names += c?.name ?? '';
    images += c?.image ?? '';
  }
  return [names, images];
}

/** A quantity in its canonical form; Go's zero Quantity (`0`) when absent. */
export function quantityCell(v: unknown): string {
  if (typeof v !== 'string' && typeof v !== 'number') return '0';
  try {
    return canonicalQuantity(v);
  } catch {
    return String(v);
  }
}

/** upstream's printBoolPtr: `True`, `False` or `<unset>`. */
export function boolPtrCell(v: unknown): string {
  if (typeof v !== 'boolean') return '<unset>';
  return v ? 'True' : 'False';
}

/** upstream's listWithMoreString: `a,b,c + 2 more...`, or `<unset>` for nothing. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const joined = list.join(',');
  if (more) return `${joined} + ${count - max} more...`;
  return joined === '' ? '<unset>' : joined;
}

/** Go's net.JoinHostPort: IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The first condition of a type (upstream helpers stop at the first match). */
export function findCondition<C extends { type?: string }>(
  conditions: C[] | undefined,
  type: string,
): C | undefined {
  if (!Array.isArray(conditions)) return undefined;
  for (const c of conditions) if (c?.type === type) return c;
  return undefined;
}

/** Whether the first condition of a type has status True (upstream's hasJobCondition and kin). */
export function conditionTrue(
  conditions: { type?: string; status?: string }[] | undefined,
  type: string,
): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Sorted, de-duplicated, comma-joined (Go's sets.String.List()). */
export function sortedUniqueJoin(values: Iterable<string>): string {
  return [...new Set(values)].sort(byteCompare).join(',');
}

/** Go's string ordering (bytewise UTF-8; equal to UTF-16 order for the BMP). */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
