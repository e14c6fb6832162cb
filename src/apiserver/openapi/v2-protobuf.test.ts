import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../../api/codec/protobuf-wire.js';
import { encodeV2Document, openapiV2Protobuf } from './v2-protobuf.js';

// A decoded message: field number → values in order (sub-messages and strings stay bytes).
type Fields = Map<number, (Uint8Array | number)[]>;

function decode(bytes: Uint8Array): Fields {
  const r = new ProtoReader(bytes);
  const out: Fields = new Map();
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    let value: Uint8Array | number;
    if (wire === WIRE_LEN) value = r.bytes();
    else if (wire === WIRE_VARINT) value = r.int64();
    else if (wire === WIRE_FIXED64) value = r.double();
    else throw new Error(`unexpected wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

function bytesOf(m: Fields, field: number): Uint8Array[] {
  return (m.get(field) ?? []).filter((v): v is Uint8Array => v instanceof Uint8Array);
}

function msg(m: Fields, field: number): Fields {
  const b = bytesOf(m, field)[0];
  assert.ok(b !== undefined, `field ${field} missing`);
  return decode(b);
}

function text(m: Fields, field: number): string | undefined {
  const b = bytesOf(m, field)[0];
  return b === undefined ? undefined : new TextDecoder().decode(b);
}

function texts(m: Fields, field: number): string[] {
  return bytesOf(m, field).map((b) => new TextDecoder().decode(b));
}

// Named pairs (name = 1, value = 2) of a repeated field, as a map of decoded values.
function named(m: Fields, field: number): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const b of bytesOf(m, field)) {
    const pair = decode(b);
    out.set(text(pair, 1) ?? '', msg(pair, 2));
  }
  return out;
}

// Vendor extensions (NamedAny) as name → the YAML text of their Any.
function extensions(m: Fields, field: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, any] of named(m, field)) out.set(name, text(any, 2) ?? '');
  return out;
}

describe('openapi v2 as gnostic protobuf', () => {
  const doc = decode(openapiV2Protobuf());
  const definitions = named(msg(doc, 9), 1);

  it('is built once and cached', () => {
    assert.equal(openapiV2Protobuf(), openapiV2Protobuf());
  });

  it('carries the version, info and security', () => {
    assert.equal(text(doc, 1), '2.0');
    const info = msg(doc, 2);
    assert.deepEqual([text(info, 1), text(info, 2)], ['Kubernetes', 'unversioned']);
    const sec = named(msg(doc, 13), 1).get('BearerToken');
    assert.ok(sec !== undefined);
    const apiKey = msg(sec, 2);
    assert.deepEqual(
      [text(apiKey, 1), text(apiKey, 2), text(apiKey, 3)],
      ['apiKey', 'authorization', 'header'],
    );
  });

  it('holds the definitions with their GVK extensions and properties', () => {
    for (const name of ['io.k8s.api.core.v1.ConfigMap', 'io.k8s.api.apps.v1.Deployment']) {
      assert.ok(definitions.has(name), name);
    }
    const cm = definitions.get('io.k8s.api.core.v1.ConfigMap');
    assert.ok(cm !== undefined);
    assert.deepEqual(texts(msg(cm, 22), 1), ['object']);
    const gvk = extensions(cm, 31).get('x-kubernetes-group-version-kind');
    assert.deepEqual(JSON.parse(gvk ?? ''), [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
    const props = named(msg(cm, 25), 1);
    assert.equal(
      text(props.get('metadata') ?? new Map(), 1),
      '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    );
    // data: a map of strings, as additionalProperties → schema.
    const data = props.get('data');
    assert.ok(data !== undefined);
    const valueSchema = msg(msg(data, 21), 1);
    assert.deepEqual(texts(msg(valueSchema, 22), 1), ['string']);
  });

  it('encodes array items and required lists', () => {
    const spec = definitions.get('io.k8s.api.core.v1.PodSpec');
    assert.ok(spec !== undefined);
    assert.ok(texts(spec, 19).includes('containers'));
    const containers = named(msg(spec, 25), 1).get('containers');
    assert.ok(containers !== undefined);
    assert.deepEqual(texts(msg(containers, 22), 1), ['array']);
    const item = decode(bytesOf(msg(containers, 23), 1)[0] ?? new Uint8Array());
    assert.equal(text(item, 1), '#/definitions/io.k8s.api.core.v1.Container');
  });

  it('encodes paths with GVK-tagged operations and their query parameters', () => {
    const paths = named(msg(doc, 8), 2);
    const item = paths.get('/api/v1/namespaces/{namespace}/configmaps/{name}');
    assert.ok(item !== undefined);
    const patch = msg(item, 8);
    const gvk = extensions(patch, 13).get('x-kubernetes-group-version-kind');
    assert.deepEqual(JSON.parse(gvk ?? ''), { group: '', version: 'v1', kind: 'ConfigMap' });
    const queryNames = bytesOf(patch, 8)
      .map((p) => decode(p))
      .filter((p) => p.has(1) && msg(p, 1).has(2))
      .map((p) => msg(msg(p, 1), 2))
      .filter((nb) => nb.has(3))
      .map((nb) => text(msg(nb, 3), 4));
    assert.ok(queryNames.includes('fieldValidation'), String(queryNames));
    const responses = named(msg(patch, 9), 1);
    assert.equal(text(msg(responses.get('200') ?? new Map(), 1), 1), 'OK');
  });

  it('encodes booleans, numbers and boolean additionalProperties', () => {
    const m = decode(
      encodeV2Document({
        definitions: {
          X: { type: 'integer', minimum: 1.5, maxLength: 3, uniqueItems: true, additionalProperties: false },
        },
      }),
    );
    const x = named(msg(m, 9), 1).get('X');
    assert.ok(x !== undefined);
    assert.deepEqual(x.get(9), [1.5]);
    assert.deepEqual(x.get(11), [3]);
    assert.deepEqual(x.get(16), [1]);
    assert.deepEqual(msg(x, 21).get(2), [0]);
  });
});
