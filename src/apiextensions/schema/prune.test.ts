import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import { StatusError } from '../../machinery/status-error.js';
import { compileCustomResourceSchema } from './index.js';

const widget: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer', default: 1 },
        mode: { type: 'string', nullable: true, default: 'auto' },
        size: { type: 'string', default: 'm' },
        labels: { type: 'object', additionalProperties: { type: 'string', default: 'x' } },
        ports: {
          type: 'array',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, protocol: { type: 'string', default: 'TCP' } },
          },
        },
        free: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { known: { type: 'object', properties: { a: { type: 'string' } } } },
        },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { spec: { type: 'object', properties: { image: { type: 'string' } } } },
        },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

interface PruneCase {
  name: string;
  obj: Record<string, unknown>;
  after: Record<string, unknown>;
  paths: string[];
}

const base = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };

const pruneCases: PruneCase[] = [
  {
    name: 'unknown spec field',
    obj: { ...base, spec: { replicas: 2, foo: 1 } },
    after: { ...base, spec: { replicas: 2 } },
    paths: ['spec.foo'],
  },
  {
    name: 'unknown root field and nested array item field',
    obj: { ...base, extra: true, spec: { ports: [{ name: 'a', bad: 1 }] } },
    after: { ...base, spec: { ports: [{ name: 'a' }] } },
    paths: ['extra', 'spec.ports[0].bad'],
  },
  {
    name: 'unknown metadata fields are dropped',
    obj: { ...base, metadata: { name: 'w', bogus: 1, labels: { a: 'b' } }, spec: {} },
    after: { ...base, metadata: { name: 'w', labels: { a: 'b' } }, spec: {} },
    paths: ['metadata.bogus'],
  },
  {
    name: 'preserve-unknown-fields keeps unknowns but prunes declared children',
    obj: { ...base, spec: { free: { anything: { deep: 1 }, known: { a: 'x', b: 'y' } } } },
    after: { ...base, spec: { free: { anything: { deep: 1 }, known: { a: 'x' } } } },
    paths: ['spec.free.known.b'],
  },
  {
    name: 'embedded resource keeps TypeMeta, prunes its metadata to ObjectMeta',
    obj: {
      ...base,
      spec: {
        template: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', junk: 1 },
          spec: { image: 'i', x: 1 },
        },
      },
    },
    after: {
      ...base,
      spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { image: 'i' } } },
    },
    paths: ['spec.template.spec.x', 'spec.template.metadata.junk'],
  },
  {
    name: 'non-nullable null without default is removed, nullable null stays',
    obj: { ...base, status: { ready: null }, spec: { mode: null } },
    after: { ...base, status: {}, spec: { mode: null } },
    paths: [],
  },
];

describe('pruning', () => {
  const s = compileCustomResourceSchema(widget);
  for (const c of pruneCases) {
    it(c.name, () => {
      const obj = structuredClone(c.obj);
      assert.deepEqual(s.prune(obj), c.paths);
      assert.deepEqual(obj, c.after);
    });
  }

  it('rejects metadata that does not decode as ObjectMeta with a 400', () => {
    const obj = { ...base, metadata: { name: 5 } };
    assert.throws(
      () => s.prune(obj),
      (e: unknown) =>
        e instanceof StatusError &&
        e.status.code === 400 &&
        /cannot be handled as a Widget: json: cannot unmarshal number/.test(e.message),
    );
  });
});

interface DefaultCase {
  name: string;
  obj: Record<string, unknown>;
  after: Record<string, unknown>;
}

const defaultCases: DefaultCase[] = [
  {
    name: 'absent fields get defaults',
    obj: { spec: {} },
    after: { spec: { replicas: 1, mode: 'auto', size: 'm' } },
  },
  {
    name: 'present fields are kept',
    obj: { spec: { replicas: 3, size: 'l', mode: 'manual' } },
    after: { spec: { replicas: 3, size: 'l', mode: 'manual' } },
  },
  {
    name: 'non-nullable null is defaulted, nullable null is kept',
    obj: { spec: { size: null, mode: null } },
    after: { spec: { replicas: 1, size: 'm', mode: null } },
  },
  {
    name: 'defaults inside array items',
    obj: { spec: { ports: [{ name: 'a' }, { name: 'b', protocol: 'UDP' }] } },
    after: {
      spec: {
        replicas: 1,
        mode: 'auto',
        size: 'm',
        ports: [
          { name: 'a', protocol: 'TCP' },
          { name: 'b', protocol: 'UDP' },
        ],
      },
    },
  },
  {
    name: 'additionalProperties null values take the default',
    obj: { spec: { labels: { a: null, b: 'y' } } },
    after: { spec: { replicas: 1, mode: 'auto', size: 'm', labels: { a: 'x', b: 'y' } } },
  },
  { name: 'absent parent objects are not created', obj: {}, after: {} },
];

describe('defaulting', () => {
  const s = compileCustomResourceSchema(widget);
  for (const c of defaultCases) {
    it(c.name, () => {
      const obj = structuredClone(c.obj);
      s.applyDefaults(obj);
      assert.deepEqual(obj, c.after);
    });
  }

  it('defaults are copies', () => {
    const sch = compileCustomResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { tags: { type: 'array', items: { type: 'string' }, default: ['a'] } },
        },
      },
    });
    const a: Record<string, unknown> = { spec: {} };
    const b: Record<string, unknown> = { spec: {} };
    sch.applyDefaults(a);
    sch.applyDefaults(b);
    ((a.spec as Record<string, unknown>).tags as string[]).push('z');
    assert.deepEqual(b, { spec: { tags: ['a'] } });
  });
});

describe('schema node', () => {
  it('carries list/map extensions, int-or-string and ObjectMeta', () => {
    const s = compileCustomResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            ports: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: {
                type: 'object',
                properties: { name: { type: 'string' }, port: { 'x-kubernetes-int-or-string': true } },
              },
            },
            sel: {
              type: 'object',
              'x-kubernetes-map-type': 'atomic',
              additionalProperties: { type: 'string' },
            },
          },
        },
      },
    });
    const spec = s.node.properties?.spec;
    assert.equal(s.node.properties?.metadata?.ref, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(s.node.properties?.kind?.type, 'string');
    assert.equal(spec?.properties?.ports?.listType, 'map');
    assert.deepEqual(spec?.properties?.ports?.listMapKeys, ['name']);
    assert.equal(spec?.properties?.ports?.items?.properties?.port?.intOrString, true);
    assert.equal(spec?.properties?.sel?.mapType, 'atomic');
    assert.equal(spec?.properties?.sel?.additionalProperties?.type, 'string');
  });
});
