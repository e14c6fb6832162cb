// RFC 6902 JSON patch with the semantics of gopkg.in/evanphx/json-patch.v4, the library the
// apiserver uses, quirks included: `replace` of a missing object key adds it, negative array
// indices count from the end, a missing `value` means null, `copy` of a missing key copies
// null, and a path without a leading slash ignores its first segment.
//
// Errors follow apiserver/pkg/endpoints/handlers/patch.go (applyJSPatch):
//   - a body that does not decode as a list of operations: 400 BadRequest with the decoder text;
//   - more than 10000 operations: 413 "The allowed maximum operations in a JSON patch is …";
//   - any failure while applying (including a failed `test`): 422 Invalid built by
//     NewGenericServerResponse, whose message is the fixed sentence "the server rejected our
//     request due to an error in our request" (the library's own text is kept as the cause).
// `copy` operations may grow the document by at most 3 MiB in total (the apiserver's
// JSONPatchMaxCopyBytes default).
//
// The document is copied on write: only containers on a modified path are copied.
import { StatusError, badRequest, requestEntityTooLarge } from '../status-error.js';
import { type JSONObject, deepEqual, isJSONObject } from './json-values.js';
import { genericUnprocessable } from './patch-errors.js';

/** Upstream maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** Upstream JSONPatchMaxCopyBytes default (3 MiB). */
export const JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024;

/** One RFC 6902 operation as decoded (fields are checked while applying, as upstream). */
export type JSONPatchOperation = { [key: string]: unknown };

/** Options of applyJSONPatch. */
export interface JSONPatchOptions {
  /** Limit on bytes added by `copy` operations; 0 disables it. */
  maxCopyBytes?: number;
}

/** An operation failure with evanphx/json-patch's message. */
export class JSONPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JSONPatchError';
  }
}

/**
 * Checks a decoded JSON patch body the way the apiserver's DecodePatch does: a JSON array of
 * objects (null means no operations). Throws 400/413 StatusErrors.
 */
export function decodeJSONPatch(body: unknown): JSONPatchOperation[] {
  if (body === null || body === undefined) return [];
  if (!Array.isArray(body)) {
    throw badRequest(`json: cannot unmarshal ${jsonWord(body)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of body) {
    if (op !== null && !isJSONObject(op)) {
      throw badRequest(`json: cannot unmarshal ${jsonWord(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (body.length > MAX_JSON_PATCH_OPERATIONS) {
    throw requestEntityTooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`,
    );
  }
  return body.map((op) => (op === null ? {} : (op as JSONPatchOperation)));
}

function jsonWord(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'object';
}

/**
 * Applies a JSON patch (a decoded body; see decodeJSONPatch) to a JSON document and returns the
 * new document. The input is not modified; unchanged subtrees are shared with the result.
 */
export function applyJSONPatch(doc: unknown, ops: unknown, options: JSONPatchOptions = {}): unknown {
  const list = decodeJSONPatch(ops);
  try {
    return new Applier(doc, options.maxCopyBytes ?? JSON_PATCH_MAX_COPY_BYTES).run(list);
  } catch (err) {
    if (err instanceof JSONPatchError) {
      const out = genericUnprocessable();
      out.cause = err;
      throw out;
    }
    throw err;
  }
}

type Container = JSONObject | unknown[];

/** Go's strconv.Atoi, or undefined where it fails. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function atoiError(s: string): string {
  return `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
}

function decodeKey(k: string): string {
  // RFC 6901: `~1` first, then `~0`, in one pass as Go's strings.Replacer does.
  return k.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

class Applier {
  private root: unknown;
  private readonly owned = new WeakSet<object>();
  private copied = 0;

  constructor(
    doc: unknown,
    private readonly maxCopyBytes: number,
  ) {
    if (!isJSONObject(doc) && !Array.isArray(doc)) throw new JSONPatchError('invalid JSON document');
    this.root = doc;
  }

  run(ops: JSONPatchOperation[]): unknown {
    for (const op of ops) {
      const kind = typeof op.op === 'string' ? op.op : 'unknown';
      switch (kind) {
        case 'add':
          this.add(op);
          break;
        case 'remove':
          this.remove(op);
          break;
        case 'replace':
          this.replace(op);
          break;
        case 'move':
          this.move(op);
          break;
        case 'test':
          this.test(op);
          break;
        case 'copy':
          this.copy(op);
          break;
        default:
          throw new JSONPatchError(`Unexpected kind: ${kind}`);
      }
    }
    return this.root;
  }

  /** A writable copy of a container (copied once per application). */
  private own<T extends Container>(c: T): T {
    if (this.owned.has(c)) return c;
    const copy = (Array.isArray(c) ? c.slice() : { ...c }) as T;
    this.owned.add(copy);
    return copy;
  }

  /** The (writable) parent container of `path` and the last key, or undefined (missing path). */
  private findObject(path: string): [Container, string] | undefined {
    const split = path.split('/');
    if (split.length < 2) return undefined;
    const parts = split.slice(1, -1);
    const key = decodeKey(split[split.length - 1] ?? '');
    this.root = this.own(this.root as Container);
    let doc = this.root as Container;
    for (const raw of parts) {
      const part = decodeKey(raw);
      let next: unknown;
      if (Array.isArray(doc)) {
        const idx = this.arrayIndex(doc, part);
        if (idx === undefined) return undefined;
        next = doc[idx];
        if (next === null || next === undefined || (!Array.isArray(next) && !isJSONObject(next)))
          return undefined;
        const owned = this.own(next as Container);
        doc[idx] = owned;
        doc = owned;
      } else {
        next = Object.hasOwn(doc, part) ? doc[part] : undefined;
        if (next === null || next === undefined || (!Array.isArray(next) && !isJSONObject(next)))
          return undefined;
        const owned = this.own(next as Container);
        doc[part] = owned;
        doc = owned;
      }
    }
    return [doc, key];
  }

  /** An existing element index (negative counts from the end), or undefined. */
  private arrayIndex(a: unknown[], key: string): number | undefined {
    let idx = atoi(key);
    if (idx === undefined) return undefined;
    if (idx < 0) {
      if (idx < -a.length) return undefined;
      idx += a.length;
    }
    return idx >= a.length ? undefined : idx;
  }

  private get(c: Container, key: string): { value: unknown } | string {
    if (!Array.isArray(c)) return { value: Object.hasOwn(c, key) ? c[key] : undefined };
    const n = atoi(key);
    if (n === undefined) return atoiError(key);
    const idx = this.arrayIndex(c, key);
    if (idx === undefined) return `Unable to access invalid index: ${n}: invalid index referenced`;
    return { value: c[idx] };
  }

  private addTo(c: Container, key: string, val: unknown): string | undefined {
    if (!Array.isArray(c)) {
      c[key] = val;
      return undefined;
    }
    if (key === '-') {
      c.push(val);
      return undefined;
    }
    let idx = atoi(key);
    if (idx === undefined) return `value was not a proper array index: '${key}': ${atoiError(key)}`;
    const size = c.length + 1;
    if (idx >= size) return `Unable to access invalid index: ${idx}: invalid index referenced`;
    if (idx < 0) {
      if (idx < -size) return `Unable to access invalid index: ${idx}: invalid index referenced`;
      idx += size;
    }
    c.splice(idx, 0, val);
    return undefined;
  }

  private removeFrom(c: Container, key: string): string | undefined {
    if (!Array.isArray(c)) {
      if (!Object.hasOwn(c, key)) return `Unable to remove nonexistent key: ${key}: missing value`;
      delete c[key];
      return undefined;
    }
    let idx = atoi(key);
    if (idx === undefined) return atoiError(key);
    if (idx >= c.length) return `Unable to access invalid index: ${idx}: invalid index referenced`;
    if (idx < 0) {
      if (idx < -c.length) return `Unable to access invalid index: ${idx}: invalid index referenced`;
      idx += c.length;
    }
    c.splice(idx, 1);
    return undefined;
  }

  private path(op: JSONPatchOperation, field: 'path' | 'from'): string | undefined {
    const v = op[field];
    return typeof v === 'string' ? v : undefined;
  }

  private pathError(op: JSONPatchOperation, field: 'path' | 'from'): string {
    const v = op[field];
    if (v === undefined || v === null) {
      return field === 'path'
        ? 'operation missing path field: missing value'
        : 'operation, missing from field: missing value';
    }
    return `json: cannot unmarshal ${jsonWord(v)} into Go value of type string`;
  }

  private value(op: JSONPatchOperation): unknown {
    return Object.hasOwn(op, 'value') ? op.value : null;
  }

  private add(op: JSONPatchOperation): void {
    const path = this.path(op, 'path');
    if (path === undefined) throw new JSONPatchError('add operation failed to decode path: missing value');
    const found = this.findObject(path);
    if (found === undefined)
      throw new JSONPatchError(`add operation does not apply: doc is missing path: "${path}": missing value`);
    const err = this.addTo(found[0], found[1], this.value(op));
    if (err !== undefined) throw new JSONPatchError(`error in add for path: '${path}': ${err}`);
  }

  private remove(op: JSONPatchOperation): void {
    const path = this.path(op, 'path');
    if (path === undefined) throw new JSONPatchError('remove operation failed to decode path: missing value');
    const found = this.findObject(path);
    if (found === undefined) {
      throw new JSONPatchError(
        `remove operation does not apply: doc is missing path: "${path}": missing value`,
      );
    }
    const err = this.removeFrom(found[0], found[1]);
    if (err !== undefined) throw new JSONPatchError(`error in remove for path: '${path}': ${err}`);
  }

  private replace(op: JSONPatchOperation): void {
    const path = this.path(op, 'path');
    if (path === undefined) {
      throw new JSONPatchError(`replace operation failed to decode path: ${this.pathError(op, 'path')}`);
    }
    if (path === '') {
      const v = this.value(op);
      if (!isJSONObject(v) && !Array.isArray(v)) {
        throw new JSONPatchError('replace operation value must be object or array: %!w(<nil>)');
      }
      this.root = v;
      return;
    }
    const found = this.findObject(path);
    if (found === undefined) {
      throw new JSONPatchError(
        `replace operation does not apply: doc is missing path: ${path}: missing value`,
      );
    }
    const [c, key] = found;
    if (typeof this.get(c, key) === 'string') {
      throw new JSONPatchError(
        `replace operation does not apply: doc is missing key: ${path}: missing value`,
      );
    }
    if (Array.isArray(c)) c[this.arrayIndex(c, key) as number] = this.value(op);
    else c[key] = this.value(op);
  }

  private move(op: JSONPatchOperation): void {
    const from = this.path(op, 'from');
    if (from === undefined)
      throw new JSONPatchError(`move operation failed to decode from: ${this.pathError(op, 'from')}`);
    const src = this.findObject(from);
    if (src === undefined) {
      throw new JSONPatchError(
        `move operation does not apply: doc is missing from path: ${from}: missing value`,
      );
    }
    const got = this.get(src[0], src[1]);
    if (typeof got === 'string') throw new JSONPatchError(`error in move for path: '${src[1]}': ${got}`);
    const rmErr = this.removeFrom(src[0], src[1]);
    if (rmErr !== undefined) throw new JSONPatchError(`error in move for path: '${src[1]}': ${rmErr}`);
    const path = this.path(op, 'path');
    if (path === undefined)
      throw new JSONPatchError(`move operation failed to decode path: ${this.pathError(op, 'path')}`);
    const dst = this.findObject(path);
    if (dst === undefined) {
      throw new JSONPatchError(
        `move operation does not apply: doc is missing destination path: ${path}: missing value`,
      );
    }
    const err = this.addTo(dst[0], dst[1], got.value === undefined ? null : got.value);
    if (err !== undefined) throw new JSONPatchError(`error in move for path: '${path}': ${err}`);
  }

  private test(op: JSONPatchOperation): void {
    const path = this.path(op, 'path');
    if (path === undefined)
      throw new JSONPatchError(`test operation failed to decode path: ${this.pathError(op, 'path')}`);
    const want = Object.hasOwn(op, 'value') ? op.value : undefined;
    if (path === '') {
      if (want !== undefined && deepEqual(this.root, want)) return;
      throw new JSONPatchError(`testing value ${path} failed: test failed`);
    }
    const found = this.findObject(path);
    if (found === undefined)
      throw new JSONPatchError(`test operation does not apply: is missing path: ${path}: missing value`);
    const got = this.get(found[0], found[1]);
    if (typeof got === 'string') throw new JSONPatchError(`error in test for path: '${path}': ${got}`);
    // A missing or null value matches a missing or null `value`.
    const have = got.value === undefined ? null : got.value;
    if (have === null) {
      if (want === undefined || want === null) return;
    } else if (want !== undefined && deepEqual(have, want)) {
      return;
    }
    throw new JSONPatchError(`testing value ${path} failed: test failed`);
  }

  private copy(op: JSONPatchOperation): void {
    const from = this.path(op, 'from');
    if (from === undefined)
      throw new JSONPatchError(`copy operation failed to decode from: ${this.pathError(op, 'from')}`);
    const src = this.findObject(from);
    if (src === undefined) {
      throw new JSONPatchError(
        `copy operation does not apply: doc is missing from path: ${from}: missing value`,
      );
    }
    const got = this.get(src[0], src[1]);
    if (typeof got === 'string') throw new JSONPatchError(`error in copy for from: '${from}': ${got}`);
    const path = this.path(op, 'path');
    if (path === undefined) throw new JSONPatchError('copy operation failed to decode path: missing value');
    const dst = this.findObject(path);
    if (dst === undefined) {
      throw new JSONPatchError(
        `copy operation does not apply: doc is missing destination path: ${path}: missing value`,
      );
    }
    // Cloned: the source may be a container this application already owns and writes in place.
    const value = got.value === undefined ? null : structuredClone(got.value);
    this.copied += Buffer.byteLength(JSON.stringify(value));
    if (this.maxCopyBytes > 0 && this.copied > this.maxCopyBytes) {
      throw new JSONPatchError(
        `Unable to complete the copy, the accumulated size increase of copy is ${this.copied}, exceeding the limit ${this.maxCopyBytes}`,
      );
    }
    const err = this.addTo(dst[0], dst[1], value);
    if (err !== undefined) throw new JSONPatchError(`error while adding value during copy: ${err}`);
  }
}

/** True when err is the 422 a failed JSON patch operation produces. */
export function isJSONPatchApplyError(err: unknown): boolean {
  return err instanceof StatusError && err.cause instanceof JSONPatchError;
}
