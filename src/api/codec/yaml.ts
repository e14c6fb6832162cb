// YAML bodies and manifests (apply-patch+yaml, `kts` config, fixtures). Parsed with the YAML
// 1.2 core schema, so keys such as `on`, `yes`, `no` stay strings, with two concessions to
// the YAML 1.1 (go-yaml v2) that upstream's sigs.k8s.io/yaml uses: `0644`-style integers are
// octal (file modes in manifests depend on it) and `<<` merge keys work. Results are plain
// JSON values: integers beyond ±2^53, NaN and infinities are rejected rather than rounded,
// aliases are capped (billion-laughs), and every failure is a 400 StatusError.
import {
  type Document,
  type DocumentOptions,
  type ParseOptions,
  parseAllDocuments,
  parseDocument,
  type ScalarTag,
  type SchemaOptions,
  stringify,
  type ToJSOptions,
} from 'yaml';
import { badRequest, StatusError } from '../../machinery/status-error.js';
import { decodeUTF8, MAX_JSON_DEPTH } from './json.js';

/** Alias expansions allowed per document before it is rejected as an alias bomb. */
export const MAX_YAML_ALIAS_COUNT = 100;

const octal11: ScalarTag = {
  identify: (v) => typeof v === 'number' || typeof v === 'bigint',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (s: string) => Number.parseInt(s, 8),
};

const OPTIONS: DocumentOptions & ParseOptions & SchemaOptions = {
  version: '1.2',
  schema: 'core',
  merge: true,
  intAsBigInt: true,
  uniqueKeys: true,
  prettyErrors: false,
  // Warnings (e.g. collection keys stringified) must not reach the process warning stream.
  logLevel: 'error',
  customTags: (tags) => [octal11, ...tags],
};

const TO_JS: ToJSOptions = { maxAliasCount: MAX_YAML_ALIAS_COUNT };

/** Parses one YAML document into a JSON value (an empty document is null). */
export function decodeYAML(input: string | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : decodeUTF8(input);
  return withinStack(() => documentToJSON(parseDocument(text, OPTIONS), text));
}

// The yaml library parses and converts recursively: a deeply nested document exhausts the
// stack, which must be a 400 like JSON's nesting limit rather than escape as a 500. The
// result is held to the JSON limit so later stages never meet a deeper object.
function withinStack(f: () => unknown): unknown {
  const v = catchDepth(f);
  if (tooDeep(v, MAX_JSON_DEPTH)) throw badRequest(DEPTH_ERROR);
  return v;
}

function catchDepth<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw badRequest(DEPTH_ERROR);
    throw e;
  }
}

const DEPTH_ERROR = `error converting YAML to JSON: yaml: exceeded max depth of ${MAX_JSON_DEPTH}`;

function tooDeep(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) {
      if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
    }
  }
  return false;
}

/** Parses a `---`-separated stream; empty documents (e.g. a trailing `---`) are dropped. */
export function decodeYAMLStream(input: string | Uint8Array): unknown[] {
  const text = typeof input === 'string' ? input : decodeUTF8(input);
  const docs = catchDepth(() => parseAllDocuments(text, OPTIONS));
  if (!Array.isArray(docs)) {
    // An empty stream parses to an EmptyStream marker.
    return [];
  }
  const out: unknown[] = [];
  for (const doc of docs) {
    const v = withinStack(() => documentToJSON(doc, text));
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

/** Serializes a JSON value as YAML in kubectl's style (block style, unindented lists). */
export function encodeYAML(value: unknown): string {
  return stringify(value, {
    version: '1.2',
    indentSeq: false,
    lineWidth: 0,
    // Quote strings a YAML 1.1 reader would take as booleans or numbers (`on`, `yes`, `0644`).
    compat: 'yaml-1.1',
    aliasDuplicateObjects: false,
  });
}

function documentToJSON(doc: Document.Parsed, text: string): unknown {
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? lineOf(text, err.pos[0]);
    throw badRequest(`error converting YAML to JSON: yaml: line ${line}: ${err.message.split('\n')[0]}`);
  }
  let js: unknown;
  try {
    js = doc.toJS(TO_JS);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw badRequest(`error converting YAML to JSON: yaml: ${msg}`);
  }
  return toJSONValue(js, '');
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

function toJSONValue(v: unknown, path: string): unknown {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw badRequest(
        `error converting YAML to JSON: integer ${v} at ${path || '<root>'} is outside the range a JSON number holds exactly (±2^53-1)`,
      );
    }
    return Number(v);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      throw badRequest(`error converting YAML to JSON: json: unsupported value: ${v} at ${path || '<root>'}`);
    }
    return v;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = toJSONValue(v[i], `${path}[${i}]`);
    return v;
  }
  if (v instanceof Map) {
    // Only produced for keys that are themselves collections; JSON cannot hold them.
    throw badRequest(`error converting YAML to JSON: unsupported map key at ${path || '<root>'}`);
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = toJSONValue(o[k], path === '' ? k : `${path}.${k}`);
    return o;
  }
  if (v === undefined) return null;
  return v;
}
