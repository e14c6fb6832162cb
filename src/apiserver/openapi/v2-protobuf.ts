// The Swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf message, the only form
// kubectl up to 1.28 accepts for /openapi/v2 (and /swagger-2.0.0.pb-v1). kubectl validates
// manifests against its `definitions` and probes its `paths` for the `fieldValidation` query
// parameter, so both are encoded in full from the JSON document. Field numbers follow
// google/gnostic's openapiv2/OpenAPIv2.proto; JSON maps become repeated (name, value) pairs and
// free-form values (vendor extensions, enums, defaults) travel as YAML text, which JSON is.
import { ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../../api/codec/protobuf-wire.js';
import type { CustomResourceRegistry } from '../../apiextensions/registry.js';
import { openapiV2Document } from './v2.js';

type Obj = { readonly [key: string]: unknown };

function asObj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(w: ProtoWriter, field: number, v: unknown): void {
  if (typeof v !== 'string' || v === '') return;
  w.tag(field, WIRE_LEN);
  w.string(v);
}

function strs(w: ProtoWriter, field: number, v: unknown): void {
  if (!Array.isArray(v)) return;
  for (const s of v) {
    if (typeof s !== 'string') continue;
    w.tag(field, WIRE_LEN);
    w.string(s);
  }
}

function bool(w: ProtoWriter, field: number, v: unknown): void {
  if (v !== true) return;
  w.tag(field, WIRE_VARINT);
  w.bool(true);
}

function int(w: ProtoWriter, field: number, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v === 0) return;
  w.tag(field, WIRE_VARINT);
  w.int64(v);
}

function dbl(w: ProtoWriter, field: number, v: unknown): void {
  if (typeof v !== 'number' || v === 0) return;
  w.tag(field, WIRE_FIXED64);
  w.double(v);
}

/** Writes a sub-message: tag, then the body `write` produces, length-prefixed. */
function msg(w: ProtoWriter, field: number, write: () => void): void {
  w.tag(field, WIRE_LEN);
  const mark = w.beginDelimited();
  write();
  w.endDelimited(mark);
}

// gnostic's Any: field 2 holds the value as YAML; JSON text is valid YAML.
function anyValue(w: ProtoWriter, field: number, v: unknown): void {
  if (v === undefined) return;
  msg(w, field, () => str(w, 2, `${JSON.stringify(v)}\n`));
}

function anyList(w: ProtoWriter, field: number, v: unknown): void {
  if (!Array.isArray(v)) return;
  for (const item of v) anyValue(w, field, item);
}

// Repeated NamedAny for every `x-` key of a JSON object.
function vendorExtensions(w: ProtoWriter, field: number, o: Obj): void {
  for (const [name, value] of Object.entries(o)) {
    if (!name.startsWith('x-')) continue;
    msg(w, field, () => {
      str(w, 1, name);
      anyValue(w, 2, value);
    });
  }
}

// Repeated Named<T> pairs (name = 1, value = 2) for a JSON map.
function namedMap(w: ProtoWriter, field: number, map: unknown, writeValue: (value: Obj) => void): void {
  const o = asObj(map);
  if (o === undefined) return;
  for (const [name, value] of Object.entries(o)) {
    const v = asObj(value);
    if (v === undefined) continue;
    msg(w, field, () => {
      str(w, 1, name);
      msg(w, 2, () => writeValue(v));
    });
  }
}

function schema(w: ProtoWriter, s: Obj): void {
  str(w, 1, s.$ref);
  str(w, 2, s.format);
  str(w, 3, s.title);
  str(w, 4, s.description);
  anyValue(w, 5, s.default);
  dbl(w, 6, s.multipleOf);
  dbl(w, 7, s.maximum);
  bool(w, 8, s.exclusiveMaximum);
  dbl(w, 9, s.minimum);
  bool(w, 10, s.exclusiveMinimum);
  int(w, 11, s.maxLength);
  int(w, 12, s.minLength);
  str(w, 13, s.pattern);
  int(w, 14, s.maxItems);
  int(w, 15, s.minItems);
  bool(w, 16, s.uniqueItems);
  int(w, 17, s.maxProperties);
  int(w, 18, s.minProperties);
  strs(w, 19, s.required);
  anyList(w, 20, s.enum);
  const ap = s.additionalProperties;
  if (typeof ap === 'boolean') {
    msg(w, 21, () => {
      w.tag(2, WIRE_VARINT);
      w.bool(ap);
    });
  } else {
    const apSchema = asObj(ap);
    if (apSchema !== undefined) msg(w, 21, () => msg(w, 1, () => schema(w, apSchema)));
  }
  if (typeof s.type === 'string') msg(w, 22, () => str(w, 1, s.type));
  else if (Array.isArray(s.type)) msg(w, 22, () => strs(w, 1, s.type));
  const items = s.items;
  if (items !== undefined) {
    const list = Array.isArray(items) ? items : [items];
    msg(w, 23, () => {
      for (const item of list) {
        const o = asObj(item);
        if (o !== undefined) msg(w, 1, () => schema(w, o));
      }
    });
  }
  if (Array.isArray(s.allOf)) {
    for (const part of s.allOf) {
      const o = asObj(part);
      if (o !== undefined) msg(w, 24, () => schema(w, o));
    }
  }
  if (asObj(s.properties) !== undefined) msg(w, 25, () => namedMap(w, 1, s.properties, (p) => schema(w, p)));
  str(w, 26, s.discriminator);
  bool(w, 27, s.readOnly);
  anyValue(w, 30, s.example);
  vendorExtensions(w, 31, s);
}

// The shared layout of PrimitivesItems and the non-body parameter sub-schemas, whose fields
// from `type` on sit at the same offsets from `base`.
function primitiveFields(w: ProtoWriter, base: number, o: Obj): void {
  str(w, base, o.type);
  str(w, base + 1, o.format);
  const items = asObj(o.items);
  if (items !== undefined) msg(w, base + 2, () => primitiveFields(w, 1, items));
  str(w, base + 3, o.collectionFormat);
  anyValue(w, base + 4, o.default);
  dbl(w, base + 5, o.maximum);
  bool(w, base + 6, o.exclusiveMaximum);
  dbl(w, base + 7, o.minimum);
  bool(w, base + 8, o.exclusiveMinimum);
  int(w, base + 9, o.maxLength);
  int(w, base + 10, o.minLength);
  str(w, base + 11, o.pattern);
  int(w, base + 12, o.maxItems);
  int(w, base + 13, o.minItems);
  bool(w, base + 14, o.uniqueItems);
  anyList(w, base + 15, o.enum);
  dbl(w, base + 16, o.multipleOf);
  vendorExtensions(w, base + 17, o);
}

// NonBodyParameter's oneof field per location; query and formData carry allowEmptyValue at 5,
// which shifts their remaining fields by one.
const NON_BODY: Record<string, { field: number; base: number }> = {
  header: { field: 1, base: 5 },
  formData: { field: 2, base: 6 },
  query: { field: 3, base: 6 },
  path: { field: 4, base: 5 },
};

function parametersItem(w: ProtoWriter, p: Obj): void {
  if (typeof p.$ref === 'string') {
    msg(w, 2, () => str(w, 1, p.$ref));
    return;
  }
  msg(w, 1, () => {
    if (p.in === 'body') {
      msg(w, 1, () => {
        str(w, 1, p.description);
        str(w, 2, p.name);
        str(w, 3, p.in);
        bool(w, 4, p.required);
        const s = asObj(p.schema);
        if (s !== undefined) msg(w, 5, () => schema(w, s));
        vendorExtensions(w, 6, p);
      });
      return;
    }
    const layout = NON_BODY[typeof p.in === 'string' ? p.in : ''];
    if (layout === undefined) return;
    msg(w, 2, () =>
      msg(w, layout.field, () => {
        bool(w, 1, p.required);
        str(w, 2, p.in);
        str(w, 3, p.description);
        str(w, 4, p.name);
        if (layout.base === 6) bool(w, 5, p.allowEmptyValue);
        primitiveFields(w, layout.base, p);
      }),
    );
  });
}

function parameters(w: ProtoWriter, field: number, v: unknown): void {
  if (!Array.isArray(v)) return;
  for (const p of v) {
    const o = asObj(p);
    if (o !== undefined) msg(w, field, () => parametersItem(w, o));
  }
}

function responseValue(w: ProtoWriter, r: Obj): void {
  if (typeof r.$ref === 'string') {
    msg(w, 2, () => str(w, 1, r.$ref));
    return;
  }
  msg(w, 1, () => {
    str(w, 1, r.description);
    const s = asObj(r.schema);
    if (s !== undefined) msg(w, 2, () => msg(w, 1, () => schema(w, s)));
    vendorExtensions(w, 5, r);
  });
}

function operation(w: ProtoWriter, op: Obj): void {
  strs(w, 1, op.tags);
  str(w, 2, op.summary);
  str(w, 3, op.description);
  str(w, 5, op.operationId);
  strs(w, 6, op.produces);
  strs(w, 7, op.consumes);
  parameters(w, 8, op.parameters);
  const responses = asObj(op.responses);
  if (responses !== undefined) {
    msg(w, 9, () => {
      namedMap(w, 1, responses, (r) => responseValue(w, r));
      vendorExtensions(w, 2, responses);
    });
  }
  strs(w, 10, op.schemes);
  bool(w, 11, op.deprecated);
  vendorExtensions(w, 13, op);
}

const METHOD_FIELDS: Record<string, number> = {
  get: 2,
  put: 3,
  post: 4,
  delete: 5,
  options: 6,
  head: 7,
  patch: 8,
};

function pathItem(w: ProtoWriter, item: Obj): void {
  str(w, 1, item.$ref);
  for (const [method, field] of Object.entries(METHOD_FIELDS)) {
    const op = asObj(item[method]);
    if (op !== undefined) msg(w, field, () => operation(w, op));
  }
  parameters(w, 9, item.parameters);
  vendorExtensions(w, 10, item);
}

// SecurityDefinitionsItem's oneof field for an `apiKey` scheme; kts declares no other kind.
function securityDefinition(w: ProtoWriter, d: Obj): void {
  if (d.type !== 'apiKey') return;
  msg(w, 2, () => {
    str(w, 1, d.type);
    str(w, 2, d.name);
    str(w, 3, d.in);
    str(w, 4, d.description);
    vendorExtensions(w, 5, d);
  });
}

function securityRequirement(w: ProtoWriter, req: Obj): void {
  for (const [name, scopes] of Object.entries(req)) {
    msg(w, 1, () => {
      str(w, 1, name);
      msg(w, 2, () => strs(w, 1, scopes));
    });
  }
}

/** Encodes a Swagger 2.0 JSON document as a gnostic `openapi.v2.Document` message. */
export function encodeV2Document(doc: Obj): Uint8Array {
  const w = new ProtoWriter(1 << 20);
  str(w, 1, doc.swagger);
  const info = asObj(doc.info);
  if (info !== undefined) {
    msg(w, 2, () => {
      str(w, 1, info.title);
      str(w, 2, info.version);
      str(w, 3, info.description);
      vendorExtensions(w, 7, info);
    });
  }
  str(w, 3, doc.host);
  str(w, 4, doc.basePath);
  strs(w, 5, doc.schemes);
  strs(w, 6, doc.consumes);
  strs(w, 7, doc.produces);
  const paths = asObj(doc.paths);
  if (paths !== undefined) {
    msg(w, 8, () => {
      vendorExtensions(w, 1, paths);
      for (const [name, value] of Object.entries(paths)) {
        const item = asObj(value);
        if (name.startsWith('x-') || item === undefined) continue;
        msg(w, 2, () => {
          str(w, 1, name);
          msg(w, 2, () => pathItem(w, item));
        });
      }
    });
  }
  if (asObj(doc.definitions) !== undefined)
    msg(w, 9, () => namedMap(w, 1, doc.definitions, (s) => schema(w, s)));
  if (Array.isArray(doc.security)) {
    for (const req of doc.security) {
      const o = asObj(req);
      if (o !== undefined) msg(w, 12, () => securityRequirement(w, o));
    }
  }
  if (asObj(doc.securityDefinitions) !== undefined)
    msg(w, 13, () => namedMap(w, 1, doc.securityDefinitions, (d) => securityDefinition(w, d)));
  vendorExtensions(w, 16, doc);
  return w.finish().slice();
}

let cached: Uint8Array | undefined;
const customCache = new WeakMap<Uint8Array, Uint8Array>();

/** The protobuf bytes of the Swagger 2.0 document (custom resources of `custom` included); cached. */
export function openapiV2Protobuf(custom?: CustomResourceRegistry): Uint8Array {
  if (custom !== undefined && custom.current().length > 0) {
    const json = openapiV2Document(custom);
    let pb = customCache.get(json);
    if (pb === undefined) {
      pb = encodeV2Document(asObj(JSON.parse(new TextDecoder().decode(json))) ?? {});
      customCache.set(json, pb);
    }
    return pb;
  }
  if (cached === undefined) {
    const json: unknown = JSON.parse(new TextDecoder().decode(openapiV2Document()));
    cached = encodeV2Document(asObj(json) ?? {});
  }
  return cached;
}
