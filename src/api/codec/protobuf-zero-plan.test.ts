import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allDefinitions, resolveNode } from '../schema.js';
import type { SchemaNode } from '../schema-types.js';
import { decodeProtobuf, decodeProtobufDroppingZeros, encodeProtobuf } from './protobuf.js';
import { dropProtobufZeros } from './protobuf-zeros.js';

// An object of the definition with every field present and zero (or one zero item / one map
// entry), a few levels deep: the worst case for zero dropping, where every rule applies.
function zeroFilled(node: SchemaNode, depth: number): unknown {
  const n = resolveNode(node);
  if (n === undefined || n.preserveUnknownFields) return undefined;
  if (n.quantity) return '0';
  if (n.intOrString) return 0;
  if (n.properties !== undefined) {
    if (depth > 6) return {};
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(n.properties)) {
      const v = zeroFilled(child, depth + 1);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  switch (n.type) {
    case 'string':
      if (n.format === 'date-time') return null;
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array': {
      const item = n.items && depth <= 6 ? zeroFilled(n.items, depth + 1) : undefined;
      return item === undefined || item === null ? [] : [item];
    }
    case 'object': {
      const value =
        n.additionalProperties && depth <= 6 ? zeroFilled(n.additionalProperties, depth + 1) : undefined;
      return value === undefined ? {} : { k: value };
    }
    default:
      return undefined;
  }
}

describe('decodeProtobufDroppingZeros', () => {
  it('equals decodeProtobuf + dropProtobufZeros for every built-in kind, zero-filled', () => {
    let compared = 0;
    for (const def of allDefinitions()) {
      const gvk = def.gvk?.[0];
      if (gvk === undefined || gvk.kind.endsWith('List')) continue;
      const obj = zeroFilled(def, 0) as Record<string, unknown>;
      obj.apiVersion = gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
      obj.kind = gvk.kind;
      let bytes: Uint8Array;
      try {
        bytes = encodeProtobuf(obj);
      } catch {
        continue; // kinds without a protobuf message (or not encodable from zeros)
      }
      const twoPass = decodeProtobuf(bytes);
      dropProtobufZeros(twoPass);
      assert.deepEqual(decodeProtobufDroppingZeros(bytes), twoPass, `${obj.apiVersion} ${gvk.kind}`);
      compared++;
    }
    assert.ok(compared > 80, `only ${compared} kinds compared`);
  });

  it('keeps pointer zeros in spec, drops them in status, keeps required zeros', () => {
    const bytes = encodeProtobuf({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', generation: 0, creationTimestamp: null },
      spec: {
        replicas: 0,
        paused: false,
        selector: { matchLabels: { app: '' } },
        template: {
          spec: {
            containers: [{ name: 'c', image: '', ports: [{ containerPort: 0, hostPort: 0 }] }],
          },
        },
      },
      status: { replicas: 0, conditions: [{ type: 'Available', status: '', lastUpdateTime: null }] },
    });
    assert.deepEqual(decodeProtobufDroppingZeros(bytes), {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: '' } },
        template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 0 }] }] } },
      },
      status: { conditions: [{ type: 'Available', status: '' }] },
    });
  });

  it('leaves embedded objects of RawExtensions as decoded', () => {
    const bytes = encodeProtobuf({
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'r' },
      revision: 0,
      data: { spec: { replicas: 0, paused: false, name: '' } },
    });
    assert.deepEqual(decodeProtobufDroppingZeros(bytes), {
      kind: 'ControllerRevision',
      apiVersion: 'apps/v1',
      metadata: { name: 'r' },
      revision: 0,
      data: { spec: { replicas: 0, paused: false, name: '' } },
    });
  });
});
