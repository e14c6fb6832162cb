// Generates src/api/generated/proto.ts: the protobuf descriptor table of every built-in
// Kubernetes message (from k8s-proto/messages.json) with the JSON name of each field, so the
// runtime codec (src/api/codec/protobuf.ts) turns protobuf bodies into the exact objects the
// JSON wire form gives. go-to-protobuf names proto fields after the Go JSON tags, with a few
// exceptions that are resolved here against the OpenAPI definitions (swagger.json):
//   - case differences (`Webhooks` → `webhooks`, `uID` → `uid`, `aPIGroup` → `apiGroup`);
//   - embedded Go structs (`json:",inline"`), which protobuf keeps as a nested message
//     (`Volume.volumeSource`, `Probe.handler`, `*.localObjectReference`, …): flagged inline;
//   - named Go slices (`ExtraValue`, `Verbs`), which protobuf wraps in `{items}`: a JSON array.
// Messages absent from the OpenAPI document reuse the mapping of the same-named message in
// another version of their group. Fields that stay unresolved are listed in the output.
import type { GenContext, GeneratedFile } from './context.js';
import { GENERATED_HEADER } from './context.js';

type MessagesJson = Record<string, Record<string, ProtoFieldJson[]>>;

interface ProtoFieldJson {
  name: string;
  number: number;
  label: 'optional' | 'repeated';
  type: string;
}

interface SwaggerDoc {
  definitions: Record<string, SwaggerDef>;
}

interface SwaggerDef {
  properties?: Record<string, unknown>;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

/** Field flags shared with the runtime (keep in sync with FLAG_* in the output). */
const FLAG_REPEATED = 1;
const FLAG_INLINE = 2;

const SCALAR_WIRE: Record<string, number> = {
  string: 2,
  bytes: 2,
  bool: 0,
  int32: 0,
  int64: 0,
  uint32: 0,
  uint64: 0,
  double: 1,
  float: 5,
};

// Groups whose packages carry no GVK in swagger.json (served by no 1.32 apiserver, or only
// inside other objects); their API group names are upstream's.
const GROUP_FALLBACK: Record<string, string> = {
  admission: 'admission.k8s.io',
  apidiscovery: 'apidiscovery.k8s.io',
  extensions: 'extensions',
  imagepolicy: 'imagepolicy.k8s.io',
  lifecycle: 'lifecycle.k8s.io',
  storagemigration: 'storagemigration.k8s.io',
};

interface Resolved {
  json: string;
  inline: boolean;
}

/** The generator entry point. */
export function generate(ctx: GenContext): GeneratedFile[] {
  const messages = ctx.readShared('k8s-proto/messages.json') as MessagesJson;
  const swagger = ctx.readShared('k8s-openapi/swagger.json') as SwaggerDoc;
  const defs = swagger.definitions;
  const notes: string[] = [];
  const unresolved: string[] = [];

  const qualify = (pkg: string, type: string): string =>
    type.startsWith('.') ? type.slice(1) : `${pkg}.${type}`;
  const defName = (full: string): string => full.replace(/^k8s\.io\./, 'io.k8s.');
  const isScalar = (t: string): boolean => t in SCALAR_WIRE;
  const lookup = (full: string): ProtoFieldJson[] | undefined => {
    const dot = full.lastIndexOf('.');
    return messages[full.slice(0, dot)]?.[full.slice(dot + 1)];
  };

  // JSON property names a message contributes to its parent when embedded inline.
  const jsonNamesCache = new Map<string, string[]>();
  const resolvedCache = new Map<string, Map<string, Resolved>>();

  function jsonNamesOf(full: string, stack: Set<string>): string[] {
    const cached = jsonNamesCache.get(full);
    if (cached) return cached;
    if (stack.has(full)) return [];
    stack.add(full);
    const res = resolveMessage(full, stack);
    const pkg = full.slice(0, full.lastIndexOf('.'));
    const out: string[] = [];
    for (const f of lookup(full) ?? []) {
      const r = res.get(f.name);
      if (!r) continue;
      if (r.inline) out.push(...jsonNamesOf(qualify(pkg, f.type), stack));
      else out.push(r.json);
    }
    stack.delete(full);
    jsonNamesCache.set(full, out);
    return out;
  }

  function resolveAgainst(full: string, props: Record<string, unknown>, stack: Set<string>) {
    const pkg = full.slice(0, full.lastIndexOf('.'));
    const fields = lookup(full) ?? [];
    const out = new Map<string, Resolved>();
    const used = new Set(fields.map((f) => f.name).filter((n) => n in props));
    for (const f of fields) {
      if (f.name in props) {
        out.set(f.name, { json: f.name, inline: false });
        continue;
      }
      const ci = Object.keys(props).find((p) => !used.has(p) && p.toLowerCase() === f.name.toLowerCase());
      if (ci !== undefined) {
        used.add(ci);
        out.set(f.name, { json: ci, inline: false });
        notes.push(`${full}.${f.name} → ${ci}`);
        continue;
      }
      if (!isScalar(f.type) && !f.type.startsWith('map<') && f.label === 'optional') {
        const sub = jsonNamesOf(qualify(pkg, f.type), stack);
        if (sub.length > 0 && sub.every((n) => n in props)) {
          out.set(f.name, { json: f.name, inline: true });
          notes.push(`${full}.${f.name} → inline`);
          continue;
        }
      }
      out.set(f.name, { json: f.name, inline: false });
      unresolved.push(`${full}.${f.name}`);
    }
    return out;
  }

  // Same-named messages in other versions of a group, for messages swagger lacks.
  function sibling(full: string): string | undefined {
    const parts = full.split('.');
    const msg = parts.pop() as string;
    parts.pop();
    const groupPrefix = `${parts.join('.')}.`;
    for (const pkg of Object.keys(messages).sort()) {
      if (!pkg.startsWith(groupPrefix) || pkg.slice(groupPrefix.length).includes('.')) continue;
      const cand = `${pkg}.${msg}`;
      if (cand !== full && messages[pkg]?.[msg] && defs[defName(cand)]?.properties) return cand;
    }
    return undefined;
  }

  function resolveMessage(full: string, stack: Set<string>): Map<string, Resolved> {
    const cached = resolvedCache.get(full);
    if (cached) return cached;
    let out: Map<string, Resolved>;
    const def = defs[defName(full)];
    if (def?.properties) {
      out = resolveAgainst(full, def.properties, stack);
    } else {
      out = new Map();
      const sib = sibling(full);
      const sibRes = sib ? resolveMessage(sib, stack) : undefined;
      for (const f of lookup(full) ?? []) {
        const r = sibRes?.get(f.name);
        out.set(f.name, r ? { ...r } : { json: f.name, inline: false });
        if (r && (r.inline || r.json !== f.name)) {
          notes.push(`${full}.${f.name} → ${r.inline ? 'inline' : r.json} (as ${sib})`);
        }
      }
    }
    resolvedCache.set(full, out);
    return out;
  }

  const rows: string[] = [];
  for (const pkg of Object.keys(messages).sort()) {
    const msgs = messages[pkg] ?? {};
    for (const name of Object.keys(msgs).sort()) {
      const full = `${pkg}.${name}`;
      const res = resolveMessage(full, new Set());
      const fields = [...(msgs[name] ?? [])].sort((a, b) => a.number - b.number);
      const fieldRows = fields.map((f) => {
        const r = res.get(f.name) ?? { json: f.name, inline: false };
        const flags = (f.label === 'repeated' ? FLAG_REPEATED : 0) | (r.inline ? FLAG_INLINE : 0);
        const type = normaliseType(pkg, f.type, qualify, isScalar);
        const wire = isScalar(f.type) ? (SCALAR_WIRE[f.type] as number) : 2;
        return `[${f.number}, ${q(r.json)}, ${wire}, ${q(type)}, ${flags}]`;
      });
      rows.push(`  ${q(full)}: [${fieldRows.join(', ')}],`);
    }
  }

  const groupVersions = groupVersionPackages(messages, defs);
  const gvRows = Object.keys(groupVersions)
    .sort()
    .map((gv) => `  ${q(gv)}: ${q(groupVersions[gv] as string)},`);

  const content = [
    GENERATED_HEADER,
    '// Protobuf descriptors of the built-in Kubernetes messages (k8s-proto/messages.json) with',
    '// the JSON name of every field. Resolved JSON-name exceptions:',
    ...[...new Set(notes)].sort().map((n) => `//   ${n}`),
    '// Fields absent from the OpenAPI document (newer than it, or never served), kept as named:',
    ...[...new Set(unresolved)].sort().map((n) => `//   ${n}`),
    '',
    '/** Field flag: the field is `repeated`. */',
    `export const FLAG_REPEATED = ${FLAG_REPEATED};`,
    '/** Field flag: an embedded Go struct whose fields appear in the parent JSON object. */',
    `export const FLAG_INLINE = ${FLAG_INLINE};`,
    '',
    '/**',
    ' * One field: [number, JSON name, wire type of one element, type, flags]. The type is a scalar',
    ' * (`string`, `int64`, …), a fully qualified message name, or `map<key,value>` of those.',
    ' */',
    'export type ProtoFieldRow = readonly [number, string, number, string, number];',
    '',
    '/** Every message by fully qualified name (`k8s.io.api.core.v1.Pod`), fields by number. */',
    'export const PROTO_MESSAGES: Readonly<Record<string, readonly ProtoFieldRow[]>> = {',
    ...rows,
    '};',
    '',
    '/** The protobuf package holding the kinds of each apiVersion (`apps/v1` → `k8s.io.api.apps.v1`). */',
    'export const PROTO_PACKAGE_BY_API_VERSION: Readonly<Record<string, string>> = {',
    ...gvRows,
    '};',
    '',
  ].join('\n');
  return [{ path: 'src/api/generated/proto.ts', content }];
}

function q(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function normaliseType(
  pkg: string,
  type: string,
  qualify: (pkg: string, t: string) => string,
  isScalar: (t: string) => boolean,
): string {
  const m = /^map<([^,]+),(.+)>$/.exec(type);
  if (m) {
    const k = m[1] as string;
    const v = m[2] as string;
    return `map<${k},${isScalar(v) ? v : qualify(pkg, v)}>`;
  }
  return isScalar(type) ? type : qualify(pkg, type);
}

function groupVersionPackages(
  messages: MessagesJson,
  defs: Record<string, SwaggerDef>,
): Record<string, string> {
  const groupOf = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    const m = /^io\.k8s\.api\.([a-z0-9]+)\./.exec(name);
    const gvk = def['x-kubernetes-group-version-kind']?.[0];
    if (m && gvk && !groupOf.has(m[1] as string)) groupOf.set(m[1] as string, gvk.group);
  }
  const out: Record<string, string> = {};
  for (const pkg of Object.keys(messages)) {
    const m = /^k8s\.io\.api\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(pkg);
    if (!m) continue;
    const short = m[1] as string;
    const version = m[2] as string;
    const group = groupOf.get(short) ?? GROUP_FALLBACK[short] ?? `${short}.k8s.io`;
    out[group === '' ? version : `${group}/${version}`] = pkg;
  }
  return out;
}
