// The Kubernetes protobuf wire form (`application/vnd.kubernetes.protobuf`): the 4-byte
// prefix `k8s\0`, then a runtime.Unknown {typeMeta, raw, contentEncoding, contentType} whose
// `raw` is the object's message. Decoding yields exactly the object the JSON wire form would
// give (JSON field names, well-known types in their JSON spelling, bytes as base64), so the
// rest of kts only ever sees JSON-shaped objects. Proto2 semantics: scalars present on the
// wire are kept even when zero (upstream writes every non-pointer field); absent repeated and
// map fields stay absent, as Go's omitempty leaves them. Malformed input only ever raises a
// 400 StatusError.
import { badRequest, type StatusError } from '../../machinery/status-error.js';
import { definitionForGVK } from '../schema.js';
import {
  type FieldDesc,
  K_BOOL,
  K_BYTES,
  K_DOUBLE,
  K_FLOAT,
  K_INT32,
  K_INT64,
  K_MAP,
  K_MESSAGE,
  K_STRING,
  K_UINT32,
  K_UINT64,
  type MessageDesc,
  messageByName,
  messageForKind,
  S_MICROTIME,
  S_NONE,
  S_TIME,
} from './protobuf-descriptors.js';
import { decodeSpecial, encodeSpecial, zeroOfSpecial } from './protobuf-special.js';
import { childZeroPlan, rootZeroPlan, type ZeroPlan } from './protobuf-zero-plan.js';
import { isZero } from './protobuf-zeros.js';
import {
  hasProtobufPrefix,
  ProtoReader,
  ProtoWriter,
  protoError,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
} from './protobuf-wire.js';

/** The media type of Kubernetes protobuf bodies. */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** Deepest message nesting accepted on decode (envelopes inside RawExtensions included). */
export const MAX_PROTO_DEPTH = 100;

const MAGIC = new Uint8Array([0x6b, 0x38, 0x73, 0x00]);

const WIRE_OF_KIND: number[] = [];
WIRE_OF_KIND[K_STRING] = WIRE_LEN;
WIRE_OF_KIND[K_BYTES] = WIRE_LEN;
WIRE_OF_KIND[K_BOOL] = WIRE_VARINT;
WIRE_OF_KIND[K_INT32] = WIRE_VARINT;
WIRE_OF_KIND[K_INT64] = WIRE_VARINT;
WIRE_OF_KIND[K_UINT32] = WIRE_VARINT;
WIRE_OF_KIND[K_UINT64] = WIRE_VARINT;
WIRE_OF_KIND[K_DOUBLE] = WIRE_FIXED64;
WIRE_OF_KIND[K_FLOAT] = WIRE_FIXED32;
WIRE_OF_KIND[K_MESSAGE] = WIRE_LEN;
WIRE_OF_KIND[K_MAP] = WIRE_LEN;

/** True when the bytes start with the Kubernetes protobuf prefix `k8s\0`. */
export { hasProtobufPrefix };

/** Decodes a protobuf body (prefix + runtime.Unknown) into its JSON-shaped object. */
export function decodeProtobuf(bytes: Uint8Array): Record<string, unknown> {
  return decodeEnvelope(bytes, 0);
}

/**
 * Decodes a protobuf body as decodeProtobuf and dropProtobufZeros (protobuf-zeros.ts) would
 * together, in one pass: Go zero values that the JSON form omits are left out as they are
 * read. This is what a write's body goes through.
 */
export function decodeProtobufDroppingZeros(bytes: Uint8Array): Record<string, unknown> {
  return decodeEnvelope(bytes, 0, true);
}

/** Decodes a Pod body; the hook the codec benchmark times. */
export function decodePodProtobuf(bytes: Uint8Array): Record<string, unknown> {
  return decodeEnvelope(bytes, 0);
}

/** Decodes one bare message (no prefix, no envelope) by fully qualified name. */
export function decodeProtobufMessage(bytes: Uint8Array, messageName: string): Record<string, unknown> {
  const desc = requireMessage(messageName);
  const out: Record<string, unknown> = {};
  readInto(new ProtoReader(bytes), desc, out, 0);
  return out;
}

/** Encodes a JSON-shaped object (with apiVersion and kind) as a protobuf body. */
export function encodeProtobuf(obj: Record<string, unknown>): Uint8Array {
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || kind === '') {
    throw badRequest("Object 'Kind' is missing in object to encode as protobuf");
  }
  const desc = messageForKind(apiVersion, kind);
  const w = new ProtoWriter(512);
  w.buf.set(MAGIC);
  w.pos = 4;
  w.tag(1, WIRE_LEN);
  let mark = w.beginDelimited();
  w.tag(1, WIRE_LEN);
  w.string(apiVersion);
  w.tag(2, WIRE_LEN);
  w.string(kind);
  w.endDelimited(mark);
  w.tag(2, WIRE_LEN);
  mark = w.beginDelimited();
  writeMessage(w, desc, obj, '');
  w.endDelimited(mark);
  w.tag(3, WIRE_LEN);
  w.string('');
  w.tag(4, WIRE_LEN);
  w.string('');
  return w.finish().slice();
}

/** Encodes one bare message (no prefix, no envelope) by fully qualified name. */
export function encodeProtobufMessage(obj: Record<string, unknown>, messageName: string): Uint8Array {
  const w = new ProtoWriter(256);
  writeMessage(w, requireMessage(messageName), obj, '');
  return w.finish().slice();
}

function requireMessage(name: string): MessageDesc {
  const desc = messageByName(name);
  if (!desc) throw badRequest(`unknown protobuf message ${JSON.stringify(name)}`);
  return desc;
}

/**
 * Decodes an envelope; `depth` counts enclosing messages (RawExtensions may nest envelopes).
 * With `dropZeros`, Go zero values the JSON form omits are left out (see protobuf-zeros.ts).
 */
export function decodeEnvelope(bytes: Uint8Array, depth: number, dropZeros = false): Record<string, unknown> {
  if (!hasProtobufPrefix(bytes)) throw protoError('body does not start with the protobuf prefix "k8s\\x00"');
  if (depth > MAX_PROTO_DEPTH) throw protoError(`exceeded max nesting depth ${MAX_PROTO_DEPTH}`);
  const r = new ProtoReader(bytes, 4);
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array | undefined;
  let contentEncoding = '';
  while (r.pos < r.end) {
    const tag = r.uint32();
    const num = tag >>> 3;
    const wt = tag & 7;
    if (num >= 1 && num <= 4 && wt !== WIRE_LEN) throw wrongWire(wt, 'runtime.Unknown', num);
    if (num === 1) {
      const end = r.delimitedEnd();
      const saved = r.end;
      r.end = end;
      while (r.pos < end) {
        const t = r.uint32();
        const n = t >>> 3;
        if ((n === 1 || n === 2) && (t & 7) !== WIRE_LEN) throw wrongWire(t & 7, 'runtime.TypeMeta', n);
        if (n === 1) apiVersion = r.string();
        else if (n === 2) kind = r.string();
        else r.skip(t & 7);
      }
      r.end = saved;
    } else if (num === 2) raw = r.bytes();
    else if (num === 3) contentEncoding = r.string();
    else if (num === 4) r.string();
    else if (num === 0) throw protoError(`runtime.Unknown: illegal tag 0 (wire type ${wt})`);
    else r.skip(wt);
  }
  if (contentEncoding !== '')
    throw protoError(`unsupported content encoding ${JSON.stringify(contentEncoding)}`);
  if (kind === '') throw badRequest("Object 'Kind' is missing in protobuf body");
  const desc = messageForKind(apiVersion, kind);
  // Go's JSON writes TypeMeta first: kind, then apiVersion.
  const out: Record<string, unknown> = { kind, apiVersion };
  if (raw !== undefined) {
    const plan = dropZeros ? planOf(apiVersion, kind, desc) : null;
    readInto(new ProtoReader(raw), desc, out, depth + 1, plan, 0);
  }
  return out;
}

function planOf(apiVersion: string, kind: string, desc: MessageDesc): ZeroPlan | null {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const def = definitionForGVK({ group, version, kind });
  return def === undefined ? null : rootZeroPlan(def, desc);
}

function wrongWire(wt: number, message: string, field: number | string): StatusError {
  return protoError(`wrong wireType = ${wt} for field ${field} of ${message}`);
}

/**
 * Reads fields up to `r.end` into `out` (inline fields share their parent's object). With a
 * zero plan, zeros the plan drops are left out; `level` is the object's level below the top.
 */
export function readInto(
  r: ProtoReader,
  desc: MessageDesc,
  out: Record<string, unknown>,
  depth: number,
  plan: ZeroPlan | null = null,
  level = 0,
): void {
  if (depth > MAX_PROTO_DEPTH) throw protoError(`exceeded max nesting depth ${MAX_PROTO_DEPTH}`);
  const byNumber = desc.byNumber;
  while (r.pos < r.end) {
    const tag = r.uint32();
    const num = tag >>> 3;
    const wt = tag & 7;
    const f = byNumber[num];
    if (f === undefined) {
      if (num === 0) throw protoError(`${desc.name}: illegal tag 0 (wire type ${wt})`);
      r.skip(wt);
      continue;
    }
    if (f.kind < K_MESSAGE) readScalarField(r, desc, f, wt, out, plan);
    else if (f.kind === K_MESSAGE) readMessageField(r, desc, f, wt, out, depth, plan, level);
    else
      readMapEntry(r, desc, f, wt, out, depth, plan === null ? null : childZeroPlan(plan, f, level), level);
  }
}

function readScalarField(
  r: ProtoReader,
  desc: MessageDesc,
  f: FieldDesc,
  wt: number,
  out: Record<string, unknown>,
  plan: ZeroPlan | null,
): void {
  if (!f.repeated) {
    if (wt !== f.wire) throw wrongWire(wt, desc.name, f.json);
    const v = readScalar(r, f.kind);
    if (plan !== null && isZero(v) && plan.drop[f.num] === true) dropField(out, f.json);
    else out[f.json] = v;
    return;
  }
  let arr = out[f.json] as unknown[] | undefined;
  if (arr === undefined) {
    arr = [];
    out[f.json] = arr;
  }
  if (wt === WIRE_LEN && f.packable) {
    const end = r.delimitedEnd();
    const saved = r.end;
    r.end = end;
    while (r.pos < end) arr.push(readScalar(r, f.kind));
    r.end = saved;
    return;
  }
  if (wt !== f.wire) throw wrongWire(wt, desc.name, f.json);
  arr.push(readScalar(r, f.kind));
}

/** One scalar value in its JSON form. */
export function readScalar(r: ProtoReader, kind: number): unknown {
  switch (kind) {
    case K_STRING:
      return r.string();
    case K_INT32:
      return r.int32();
    case K_INT64:
      return r.int64();
    case K_BOOL:
      return r.bool();
    case K_BYTES: {
      const b = r.bytes();
      return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
    }
    case K_UINT32:
      return r.uint32Value();
    case K_UINT64:
      return r.uint64();
    case K_DOUBLE:
      return finite(r.double());
    case K_FLOAT:
      return finite(r.float());
    default:
      throw protoError(`unsupported scalar kind ${kind}`);
  }
}

function finite(v: number): number {
  if (!Number.isFinite(v)) throw protoError(`json: unsupported value: ${v}`);
  return v;
}

function readMessageField(
  r: ProtoReader,
  desc: MessageDesc,
  f: FieldDesc,
  wt: number,
  out: Record<string, unknown>,
  depth: number,
  plan: ZeroPlan | null,
  level: number,
): void {
  if (wt !== WIRE_LEN) throw wrongWire(wt, desc.name, f.json);
  const msg = f.msg as MessageDesc;
  const end = r.delimitedEnd();
  const saved = r.end;
  r.end = end;
  const child = plan === null ? null : childZeroPlan(plan, f, level);
  if (f.inline) {
    readInto(r, msg, out, depth + 1, child, level);
  } else if (f.repeated) {
    let arr = out[f.json] as unknown[] | undefined;
    if (arr === undefined) {
      arr = [];
      out[f.json] = arr;
    }
    arr.push(readMessageValue(r, msg, depth + 1, undefined, child, level + 1));
  } else {
    const v = readMessageValue(r, msg, depth + 1, out[f.json], child, level + 1);
    // Special messages have scalar JSON forms (a zero Time is null, an IntOrString 0).
    if (plan !== null && isZero(v) && plan.drop[f.num] === true) dropField(out, f.json);
    else out[f.json] = v;
  }
  r.end = saved;
}

// A zero read after a non-zero occurrence of the same field replaces it, so it must go too.
function dropField(out: Record<string, unknown>, key: string): void {
  if (out[key] !== undefined) delete out[key];
}

/** A message value bounded by `r.end`; a repeated occurrence merges into `existing`. */
function readMessageValue(
  r: ProtoReader,
  msg: MessageDesc,
  depth: number,
  existing: unknown,
  plan: ZeroPlan | null,
  level: number,
): unknown {
  if (msg.special !== S_NONE) return decodeSpecial(r, msg, depth, readInto, decodeEnvelope);
  const target =
    existing !== null && typeof existing === 'object' && !Array.isArray(existing)
      ? (existing as Record<string, unknown>)
      : {};
  readInto(r, msg, target, depth, plan, level);
  return target;
}

function readMapEntry(
  r: ProtoReader,
  desc: MessageDesc,
  f: FieldDesc,
  wt: number,
  out: Record<string, unknown>,
  depth: number,
  valuePlan: ZeroPlan | null,
  level: number,
): void {
  if (wt !== WIRE_LEN) throw wrongWire(wt, desc.name, f.json);
  const end = r.delimitedEnd();
  const saved = r.end;
  r.end = end;
  let key: unknown = f.mapKey === K_STRING ? '' : 0;
  let value: unknown;
  while (r.pos < end) {
    const tag = r.uint32();
    const num = tag >>> 3;
    const t = tag & 7;
    if (num === 1) {
      if (t !== WIRE_OF_KIND[f.mapKey]) throw wrongWire(t, `${desc.name}.${f.json} map entry`, 'key');
      key = readScalar(r, f.mapKey);
    } else if (num === 2) {
      if (t !== WIRE_OF_KIND[f.mapValue]) throw wrongWire(t, `${desc.name}.${f.json} map entry`, 'value');
      if (f.mapValue === K_MESSAGE) {
        const vend = r.delimitedEnd();
        r.end = vend;
        value = readMessageValue(r, f.mapValueMsg as MessageDesc, depth + 1, undefined, valuePlan, level + 2);
        r.end = end;
      } else {
        value = readScalar(r, f.mapValue);
      }
    } else {
      r.skip(t);
    }
  }
  r.end = saved;
  if (value === undefined) value = zeroOfMapValue(f);
  let map = out[f.json] as Record<string, unknown> | undefined;
  if (map === undefined) {
    map = {};
    out[f.json] = map;
  }
  const k = String(key);
  if (k === '__proto__')
    Object.defineProperty(map, k, { value, enumerable: true, writable: true, configurable: true });
  else map[k] = value;
}

function zeroOfMapValue(f: FieldDesc): unknown {
  switch (f.mapValue) {
    case K_STRING:
    case K_BYTES:
      return '';
    case K_BOOL:
      return false;
    case K_MESSAGE: {
      const msg = f.mapValueMsg as MessageDesc;
      return msg.special === S_NONE ? {} : zeroOfSpecial(msg.special);
    }
    default:
      return 0;
  }
}

// ---- encoding ----

function typeError(path: string, expected: string, v: unknown): StatusError {
  const got = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return badRequest(`cannot encode ${path || 'object'} as protobuf: expected ${expected}, got ${got}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Writes every field of `desc` found in `obj` (inline fields read their keys from `obj`). */
export function writeMessage(
  w: ProtoWriter,
  desc: MessageDesc,
  obj: Record<string, unknown>,
  path: string,
): void {
  for (const f of desc.fields) {
    if (f.inline) {
      if (f.msg && f.inlineKeys.some((k) => obj[k] !== undefined && obj[k] !== null)) {
        w.tag(f.num, WIRE_LEN);
        const mark = w.beginDelimited();
        writeMessage(w, f.msg, obj, path);
        w.endDelimited(mark);
      }
      continue;
    }
    const v = obj[f.json];
    if (v === undefined) continue;
    const p = path === '' ? f.json : `${path}.${f.json}`;
    if (v === null) {
      // A zero metav1.Time is JSON null; upstream writes it as an empty message.
      const special = f.msg?.special;
      if (!f.repeated && (special === S_TIME || special === S_MICROTIME)) {
        w.tag(f.num, WIRE_LEN);
        w.uint32(0);
      }
      continue;
    }
    if (f.kind === K_MAP) {
      writeMap(w, f, v, p);
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw typeError(p, 'array', v);
      for (let i = 0; i < v.length; i++) writeOne(w, f.num, f.kind, f.msg, v[i], `${p}[${i}]`);
    } else {
      writeOne(w, f.num, f.kind, f.msg, v, p);
    }
  }
}

function writeOne(
  w: ProtoWriter,
  num: number,
  kind: number,
  msg: MessageDesc | undefined,
  v: unknown,
  p: string,
): void {
  if (kind === K_MESSAGE) {
    w.tag(num, WIRE_LEN);
    const mark = w.beginDelimited();
    writeMessageValue(w, msg as MessageDesc, v, p);
    w.endDelimited(mark);
    return;
  }
  w.tag(num, WIRE_OF_KIND[kind] as number);
  writeScalar(w, kind, v, p);
}

function writeMessageValue(w: ProtoWriter, msg: MessageDesc, v: unknown, p: string): void {
  if (msg.special !== S_NONE) {
    encodeSpecial(w, msg, v, p, writeScalar);
    return;
  }
  if (!isPlainObject(v)) throw typeError(p, 'object', v);
  writeMessage(w, msg, v, p);
}

function writeMap(w: ProtoWriter, f: FieldDesc, v: unknown, p: string): void {
  if (!isPlainObject(v)) throw typeError(p, 'object', v);
  for (const key of Object.keys(v).sort()) {
    const value = v[key];
    w.tag(f.num, WIRE_LEN);
    const mark = w.beginDelimited();
    w.tag(1, WIRE_OF_KIND[f.mapKey] as number);
    writeScalar(w, f.mapKey, f.mapKey === K_STRING ? key : Number(key), `${p}[${key}]`);
    if (value !== null && value !== undefined) {
      writeOne(w, 2, f.mapValue, f.mapValueMsg, value, `${p}[${key}]`);
    }
    w.endDelimited(mark);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Writes one scalar after checking its JSON type and range. */
export function writeScalar(w: ProtoWriter, kind: number, v: unknown, p: string): void {
  switch (kind) {
    case K_STRING:
      if (typeof v !== 'string') throw typeError(p, 'string', v);
      w.string(v);
      return;
    case K_BOOL:
      if (typeof v !== 'boolean') throw typeError(p, 'boolean', v);
      w.bool(v);
      return;
    case K_INT32:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw typeError(p, 'int32', v);
      }
      w.int64(v);
      return;
    case K_INT64:
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw typeError(p, 'integer within ±2^53', v);
      w.int64(v);
      return;
    case K_UINT32:
    case K_UINT64:
      if (
        typeof v !== 'number' ||
        !Number.isSafeInteger(v) ||
        v < 0 ||
        (kind === K_UINT32 && v > 0xffffffff)
      ) {
        throw typeError(p, 'unsigned integer', v);
      }
      w.int64(v);
      return;
    case K_DOUBLE:
      if (typeof v !== 'number') throw typeError(p, 'number', v);
      w.double(v);
      return;
    case K_FLOAT:
      if (typeof v !== 'number') throw typeError(p, 'number', v);
      w.float(v);
      return;
    case K_BYTES: {
      if (typeof v !== 'string') throw typeError(p, 'base64 string', v);
      const clean = v.replace(/[\r\n]/g, '');
      if (clean.length % 4 !== 0 || !BASE64.test(clean)) {
        throw badRequest(`cannot encode ${p} as protobuf: illegal base64 data`);
      }
      w.bytes(Buffer.from(clean, 'base64'));
      return;
    }
    default:
      throw badRequest(`cannot encode ${p} as protobuf: unsupported kind ${kind}`);
  }
}
