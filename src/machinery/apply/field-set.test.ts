import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveNode } from '../../api/schema.js';
import { FieldSet } from './field-set.js';
import {
  fieldElement,
  indexElement,
  keyElement,
  type Path,
  parsePathElement,
  pathToString,
  serializePathElement,
  valueElement,
} from './path-element.js';
import { compare, merge, TypeContext, toFieldSet } from './typed-value.js';

const f = fieldElement;
const ctx = new TypeContext(resolveNode);

describe('path elements', () => {
  const cases: Array<[string, ReturnType<typeof parsePathElement>, string]> = [
    ['f:replicas', f('replicas'), '.replicas'],
    ['k:{"name":"nginx"}', keyElement([['name', 'nginx']]), '[name="nginx"]'],
    [
      'k:{"containerPort":80,"protocol":"TCP"}',
      keyElement([
        ['protocol', 'TCP'],
        ['containerPort', 80],
      ]),
      '[containerPort=80,protocol="TCP"]',
    ],
    ['v:"example.com/finalizer"', valueElement('example.com/finalizer'), '[="example.com/finalizer"]'],
    ['v:3', valueElement(3), '[=3]'],
    ['i:2', indexElement(2), '[2]'],
  ];
  for (const [key, pe, str] of cases) {
    it(`serializes ${key}`, () => {
      assert.equal(serializePathElement(pe), key);
      assert.deepEqual(parsePathElement(key), pe);
      assert.equal(pathToString([pe]), str);
    });
  }

  it('escapes HTML characters in keys as Go does', () => {
    assert.equal(serializePathElement(valueElement('a<b>&')), 'v:"a\\u003cb\\u003e\\u0026"');
  });

  it('prints nested paths in upstream message form', () => {
    const p: Path = [
      f('spec'),
      f('template'),
      f('spec'),
      f('containers'),
      keyElement([['name', 'nginx']]),
      f('image'),
    ];
    assert.equal(pathToString(p), '.spec.template.spec.containers[name="nginx"].image');
  });
});

describe('FieldSet', () => {
  it('round-trips fieldsV1 with `.` for members that have children', () => {
    const v1 = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:replicas': {}, 'f:selector': {} },
    };
    const set = FieldSet.fromFieldsV1(v1);
    assert.equal(JSON.stringify(set.toFieldsV1()), JSON.stringify(v1));
    assert.ok(set.has([f('metadata'), f('labels')]));
    assert.ok(set.has([f('metadata'), f('labels'), f('app')]));
    assert.ok(!set.has([f('metadata')]));
    assert.equal(set.size(), 4);
  });

  it('sorts fields before keys before values, and keys by field then value', () => {
    const set = new FieldSet([
      [f('l'), valueElement('b')],
      [f('l'), valueElement('a')],
      [f('l'), valueElement(2)],
      [f('m'), keyElement([['name', 'b']])],
      [f('m'), keyElement([['name', 'a']])],
      [f('a')],
    ]);
    assert.equal(
      JSON.stringify(set.toFieldsV1()),
      '{"f:a":{},"f:l":{"v:2":{},"v:\\"a\\"":{},"v:\\"b\\"":{}},"f:m":{"k:{\\"name\\":\\"a\\"}":{},"k:{\\"name\\":\\"b\\"}":{}}}',
    );
  });

  it('iterates members of a level before its children', () => {
    const set = new FieldSet([
      [f('spec'), f('template'), f('x')],
      [f('spec'), f('replicas')],
    ]);
    assert.deepEqual(set.paths().map(pathToString), ['.spec.replicas', '.spec.template.x']);
  });

  it('implements union, intersection and difference with upstream semantics', () => {
    const a = new FieldSet([[f('a')], [f('a'), f('b')], [f('c')]]);
    const b = new FieldSet([[f('a')], [f('c'), f('d')]]);
    assert.deepEqual(a.union(b).paths().map(pathToString), ['.a', '.c', '.a.b', '.c.d']);
    assert.deepEqual(a.intersection(b).paths().map(pathToString), ['.a']);
    // a member of the subtrahend removes that path only, never what lies below it
    assert.deepEqual(a.difference(b).paths().map(pathToString), ['.c', '.a.b']);
    assert.ok(a.difference(a).isEmpty());
  });

  it('drops unknown element kinds and rejects malformed keys', () => {
    assert.equal(FieldSet.fromFieldsV1({ 'x:foo': {}, 'f:a': {} }).size(), 1);
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:notjson': {} }));
    assert.throws(() => FieldSet.fromFieldsV1([]));
  });
});

describe('typed values', () => {
  const POD = { ref: 'io.k8s.api.core.v1.Pod' };

  it('owns list items, atomic maps, granular map keys and finalizers as a set', () => {
    const pod = {
      metadata: { finalizers: ['a/b'], labels: { x: '1' } },
      spec: {
        containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }],
        nodeSelector: { disk: 'ssd' },
        affinity: { nodeAffinity: {} },
      },
    };
    assert.equal(
      JSON.stringify(toFieldSet(ctx, pod, POD).toFieldsV1()),
      JSON.stringify({
        'f:metadata': { 'f:finalizers': { 'v:"a/b"': {} }, 'f:labels': { 'f:x': {} } },
        'f:spec': {
          'f:affinity': { 'f:nodeAffinity': {} },
          'f:containers': {
            'k:{"name":"c"}': {
              '.': {},
              'f:image': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
          'f:nodeSelector': {}, // map-type atomic upstream
        },
      }),
    );
  });

  it('treats untyped content as deduced: granular maps, atomic lists', () => {
    const set = toFieldSet(ctx, { spec: { a: { b: 1 }, l: [1, 2] } }, undefined);
    assert.equal(JSON.stringify(set.toFieldsV1()), '{"f:spec":{".":{},"f:a":{".":{},"f:b":{}},"f:l":{}}}');
  });

  it('compares: added containers get `.`, changed leaves are modified, removed leaves removed', () => {
    const DEP = { ref: 'io.k8s.api.apps.v1.Deployment' };
    const a = { spec: { replicas: 1, paused: true, template: { spec: { containers: null } } } };
    const b = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'x' }] } } } };
    const c = compare(ctx, a, b, DEP);
    assert.deepEqual(c.modified.paths().map(pathToString), ['.spec.replicas']);
    assert.deepEqual(c.removed.paths().map(pathToString), ['.spec.paused']);
    assert.deepEqual(c.added.paths().map(pathToString), [
      '.spec.template.spec.containers[name="x"]',
      '.spec.template.spec.containers[name="x"].name',
    ]);
  });

  it('merges list-maps in upstream order (applied items at the place of the first shared one)', () => {
    const POD_SPEC = { ref: 'io.k8s.api.core.v1.PodSpec' };
    const live = {
      containers: [
        { name: 'a', image: '1' },
        { name: 'b', image: '1' },
      ],
    };
    const cfg = {
      containers: [
        { name: 'c', image: '2' },
        { name: 'a', image: '2' },
      ],
    };
    const out = merge(ctx, live, cfg, POD_SPEC) as { containers: Array<{ name: string; image: string }> };
    assert.deepEqual(
      out.containers.map((c) => `${c.name}=${c.image}`),
      ['c=2', 'a=2', 'b=1'],
    );
  });
});
