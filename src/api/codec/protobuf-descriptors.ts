// Links the generated descriptor rows (src/api/generated/proto.ts) into object graphs once,
// at module load, so decoding never builds maps or parses type strings per call. Also maps an
// apiVersion/kind to its message the way upstream's scheme does.
import { badRequest } from '../../machinery/status-error.js';
import {
  FLAG_INLINE,
  FLAG_REPEATED,
  PROTO_MESSAGES,
  PROTO_PACKAGE_BY_API_VERSION,
  type ProtoFieldRow,
} from '../generated/proto.js';

/** Value kinds of a field (or of a map key/value). */
export const K_STRING = 0;
export const K_BYTES = 1;
export const K_BOOL = 2;
export const K_INT32 = 3;
export const K_INT64 = 4;
export const K_UINT32 = 5;
export const K_UINT64 = 6;
export const K_DOUBLE = 7;
export const K_FLOAT = 8;
export const K_MESSAGE = 9;
export const K_MAP = 10;

/** Messages with a non-object JSON form (or none at all). */
export const S_NONE = 0;
export const S_TIME = 1;
export const S_MICROTIME = 2;
export const S_DURATION = 3;
export const S_QUANTITY = 4;
export const S_INT_OR_STRING = 5;
export const S_RAW_EXTENSION = 6;
export const S_FIELDS_V1 = 7;
/** A named Go slice (`ExtraValue`, `Verbs`) wrapped by protobuf in `{items}`: a JSON array. */
export const S_LIST = 8;

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

const SPECIAL_BY_NAME: Record<string, number> = {
  [`${META}.Time`]: S_TIME,
  [`${META}.MicroTime`]: S_MICROTIME,
  [`${META}.Duration`]: S_DURATION,
  [`${META}.FieldsV1`]: S_FIELDS_V1,
  'k8s.io.apimachinery.pkg.api.resource.Quantity': S_QUANTITY,
  'k8s.io.apimachinery.pkg.api.resource.QuantityValue': S_QUANTITY,
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': S_INT_OR_STRING,
  'k8s.io.apimachinery.pkg.runtime.RawExtension': S_RAW_EXTENSION,
};

const SCALAR_KIND: Record<string, number> = {
  string: K_STRING,
  bytes: K_BYTES,
  bool: K_BOOL,
  int32: K_INT32,
  int64: K_INT64,
  uint32: K_UINT32,
  uint64: K_UINT64,
  double: K_DOUBLE,
  float: K_FLOAT,
};

/** One linked field. */
export interface FieldDesc {
  num: number;
  json: string;
  /** Wire type of one element. */
  wire: number;
  kind: number;
  repeated: boolean;
  inline: boolean;
  /** Numeric scalars may also arrive packed (one length-delimited run). */
  packable: boolean;
  msg: MessageDesc | undefined;
  mapKey: number;
  mapValue: number;
  mapValueMsg: MessageDesc | undefined;
  /** For inline fields: every JSON key the embedded message contributes to its parent. */
  inlineKeys: string[];
}

/** One linked message. */
export interface MessageDesc {
  name: string;
  special: number;
  /** Fields in field-number order (the order upstream writes them). */
  fields: FieldDesc[];
  /** Field by number (sparse array). */
  byNumber: (FieldDesc | undefined)[];
}

const descriptors = new Map<string, MessageDesc>();

function link(): void {
  for (const name of Object.keys(PROTO_MESSAGES)) {
    descriptors.set(name, { name, special: SPECIAL_BY_NAME[name] ?? S_NONE, fields: [], byNumber: [] });
  }
  for (const [name, rows] of Object.entries(PROTO_MESSAGES)) {
    const desc = descriptors.get(name) as MessageDesc;
    for (const row of rows) {
      const f = linkField(name, row);
      desc.fields.push(f);
      desc.byNumber[f.num] = f;
    }
    if (desc.special === S_NONE && isListWrapper(desc)) desc.special = S_LIST;
  }
  for (const desc of descriptors.values()) {
    for (const f of desc.fields) if (f.inline && f.msg) f.inlineKeys = inlineKeysOf(f.msg);
  }
}

function isListWrapper(desc: MessageDesc): boolean {
  const only = desc.fields[0];
  return (
    desc.fields.length === 1 &&
    only !== undefined &&
    only.json === 'items' &&
    only.repeated &&
    only.kind < K_MESSAGE
  );
}

function inlineKeysOf(desc: MessageDesc): string[] {
  const out: string[] = [];
  for (const f of desc.fields) {
    if (f.inline && f.msg) out.push(...inlineKeysOf(f.msg));
    else out.push(f.json);
  }
  return out;
}

function kindOf(owner: string, type: string): { kind: number; msg: MessageDesc | undefined } {
  const scalar = SCALAR_KIND[type];
  if (scalar !== undefined) return { kind: scalar, msg: undefined };
  const msg = descriptors.get(type);
  if (!msg) throw new Error(`proto descriptors: ${owner} refers to unknown message ${type}`);
  return { kind: K_MESSAGE, msg };
}

function linkField(owner: string, row: ProtoFieldRow): FieldDesc {
  const [num, json, wire, type, flags] = row;
  const f: FieldDesc = {
    num,
    json,
    wire,
    kind: K_STRING,
    repeated: (flags & FLAG_REPEATED) !== 0,
    inline: (flags & FLAG_INLINE) !== 0,
    packable: false,
    msg: undefined,
    mapKey: K_STRING,
    mapValue: K_STRING,
    mapValueMsg: undefined,
    inlineKeys: [],
  };
  const m = /^map<([^,]+),(.+)>$/.exec(type);
  if (m) {
    f.kind = K_MAP;
    f.mapKey = kindOf(owner, m[1] as string).kind;
    const v = kindOf(owner, m[2] as string);
    f.mapValue = v.kind;
    f.mapValueMsg = v.msg;
  } else {
    const k = kindOf(owner, type);
    f.kind = k.kind;
    f.msg = k.msg;
  }
  f.packable = f.repeated && f.kind !== K_STRING && f.kind !== K_BYTES && f.kind < K_MESSAGE;
  return f;
}

link();

/** The linked descriptor of a fully qualified message name, if it exists. */
export function messageByName(name: string): MessageDesc | undefined {
  return descriptors.get(name);
}

// Kinds every group version serves from meta/v1 (upstream's AddToGroupVersion and the
// unversioned kinds such as Status).
const META_KINDS = new Set([
  'Status',
  'WatchEvent',
  'ListOptions',
  'GetOptions',
  'DeleteOptions',
  'CreateOptions',
  'UpdateOptions',
  'PatchOptions',
  'APIVersions',
  'APIGroupList',
  'APIGroup',
  'APIResourceList',
  'PartialObjectMetadata',
  'PartialObjectMetadataList',
]);

// Pre-resolved `apiVersion kind` pairs: the hot path is one Map lookup.
const byGVK = new Map<string, MessageDesc>();
for (const [apiVersion, pkg] of Object.entries(PROTO_PACKAGE_BY_API_VERSION)) {
  for (const name of Object.keys(PROTO_MESSAGES)) {
    if (name.startsWith(`${pkg}.`) && !name.slice(pkg.length + 1).includes('.')) {
      byGVK.set(`${apiVersion} ${name.slice(pkg.length + 1)}`, descriptors.get(name) as MessageDesc);
    }
  }
}

/** The scheme name upstream's kube-apiserver reports in "no kind is registered" errors. */
const SCHEME_NAME = 'k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30';

/** The message an apiVersion/kind pair is encoded as; unknown pairs are a 400 as upstream. */
export function messageForKind(apiVersion: string, kind: string): MessageDesc {
  const hit = byGVK.get(`${apiVersion} ${kind}`);
  if (hit) return hit;
  // Upstream registers these for every group version it serves, custom resources included.
  if (META_KINDS.has(kind) && apiVersion !== '') {
    const meta = descriptors.get(`${META}.${kind}`);
    if (meta) return meta;
  }
  throw badRequest(
    `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme ${JSON.stringify(SCHEME_NAME)}`,
  );
}
