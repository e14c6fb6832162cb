// metadata.managedFields <-> per-manager field sets. Internally a manager is identified the
// way upstream's BuildManagerIdentifier does it: the JSON of its entry without time and
// fields, and without apiVersion for appliers, so one applier keeps one entry whatever
// version it applies with, while updaters get one entry per (manager, apiVersion,
// subresource). Entries are written back sorted as upstream sorts them (Apply before Update,
// then by time, manager, apiVersion, subresource), with second-precision RFC 3339 times.
import { FieldSet } from './field-set.js';

/** metav1.ManagedFieldsEntry as it appears on objects. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/** The fields one manager owns, at the API version it used. */
export interface ManagerSet {
  set: FieldSet;
  apiVersion: string;
  applied: boolean;
}

/** Decoded managed fields: sets and times keyed by manager identifier. */
export interface Managed {
  fields: Map<string, ManagerSet>;
  times: Map<string, string | undefined>;
}

/** Upstream's cap on Update entries before the oldest merge into `ancient-changes`. */
export const DEFAULT_MAX_UPDATE_MANAGERS = 10;

/** Name of the entry that collects the oldest Update managers. */
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';

/** An empty Managed. */
export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

/** The identifier upstream keys managers by (JSON without time, fields and, for Apply, apiVersion). */
export function managerIdentifier(e: {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
}): string {
  const id: Record<string, string> = {};
  if (e.manager) id.manager = e.manager;
  if (e.operation) id.operation = e.operation;
  if (e.apiVersion && e.operation !== 'Apply') id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

/** The parts of an identifier. */
export function parseIdentifier(id: string): ManagedFieldsEntry {
  const v: unknown = JSON.parse(id);
  return v !== null && typeof v === 'object' ? (v as ManagedFieldsEntry) : {};
}

/** Decodes metadata.managedFields; throws an Error with upstream's wording when invalid. */
export function decodeManagedFields(entries: readonly ManagedFieldsEntry[]): Managed {
  const m = emptyManaged();
  entries.forEach((e, i) => {
    if (e.operation !== 'Apply' && e.operation !== 'Update') {
      throw new Error('operation must be `Apply` or `Update`');
    }
    if (!e.apiVersion) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') {
      throw new Error(`missing fieldsType in managed fields entry ${i}`);
    }
    if (e.fieldsType !== 'FieldsV1') {
      throw new Error(`invalid fieldsType "${e.fieldsType}" in managed fields entry ${i}`);
    }
    const id = managerIdentifier(e);
    const set =
      e.fieldsV1 === undefined || e.fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(e.fieldsV1);
    m.fields.set(id, { set, apiVersion: e.apiVersion, applied: e.operation === 'Apply' });
    m.times.set(id, e.time);
  });
  return m;
}

/** True when a client asked to reset managed fields: `[]` or `[{}]` (upstream isResetManagedFields). */
export function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 0) return true;
  if (v.length !== 1) return false;
  const e: unknown = v[0];
  if (e === null || typeof e !== 'object') return false;
  return Object.values(e as Record<string, unknown>).every(
    (x) =>
      x === undefined || x === null || x === '' || (typeof x === 'object' && Object.keys(x).length === 0),
  );
}

function seconds(t: string | undefined): number {
  if (t === undefined) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encodes managed fields into sorted entries (undefined when there are none). */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] | undefined {
  if (m.fields.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, ms] of m.fields) {
    const parsed = parseIdentifier(id);
    const e: ManagedFieldsEntry = {};
    if (parsed.manager) e.manager = parsed.manager;
    e.operation = ms.applied ? 'Apply' : (parsed.operation ?? 'Update');
    e.apiVersion = ms.apiVersion;
    const t = m.times.get(id);
    if (t !== undefined) e.time = t;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = ms.set.toFieldsV1();
    if (parsed.subresource) e.subresource = parsed.subresource;
    out.push(e);
  }
  out.sort(
    (p, q) =>
      cmp(p.operation ?? '', q.operation ?? '') ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager ?? '', q.manager ?? '') ||
      cmp(p.apiVersion ?? '', q.apiVersion ?? '') ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  );
  return out;
}

/** RFC 3339 with second precision, UTC (metav1.Time). */
export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * Keeps at most `max` Update entries: the oldest are merged, per API version, into an
 * `ancient-changes` entry, as upstream's capManagersManager does (the first old entry of a
 * version becomes the bucket only once a second one joins it).
 */
export function capUpdateManagers(m: Managed, max = DEFAULT_MAX_UPDATE_MANAGERS): void {
  const updaters = [...m.fields].filter(([, ms]) => !ms.applied).map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => seconds(m.times.get(a)) - seconds(m.times.get(b)) || cmp(a, b));
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i]!;
    const ms = m.fields.get(id)!;
    const time = m.times.get(id);
    const bucket = managerIdentifier({
      manager: ANCIENT_CHANGES_MANAGER,
      operation: 'Update',
      apiVersion: ms.apiVersion,
    });
    const first = firstByVersion.get(ms.apiVersion);
    if (first === undefined) {
      firstByVersion.set(ms.apiVersion, id);
      continue;
    }
    if (!m.fields.has(bucket)) {
      const s = m.fields.get(first)!;
      m.fields.delete(first);
      m.times.delete(first);
      m.fields.set(bucket, s);
    }
    const b = m.fields.get(bucket)!;
    m.fields.set(bucket, { set: ms.set.union(b.set), apiVersion: ms.apiVersion, applied: ms.applied });
    m.fields.delete(id);
    m.times.delete(id);
    length--;
    m.times.set(bucket, time);
  }
}
