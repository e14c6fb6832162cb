import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SchemaNode } from '../../api/schema-types.js';
import { StatusError } from '../status-error.js';
import type { PatchSchema } from './patch-meta.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';
import { createThreeWayMergePatch, createTwoWayMergePatch, isPatchConflict } from './three-way.js';

// A hand-written schema in the shape of the generated table (refs resolved by name).
const defs: Record<string, SchemaNode> = {
  Doc: {
    type: 'object',
    properties: {
      items: { type: 'array', items: { ref: 'Item' }, patchStrategy: 'merge', patchMergeKey: 'name' },
      tags: { type: 'array', items: { type: 'string' }, patchStrategy: 'merge' },
      atomic: { type: 'array', items: { ref: 'Item' } },
      strategy: { ref: 'Strategy', patchStrategy: 'retainKeys' },
      sources: {
        type: 'array',
        items: { ref: 'Item' },
        patchStrategy: 'merge,retainKeys',
        patchMergeKey: 'name',
      },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      whole: { ref: 'Item', patchStrategy: 'replace' },
      nested: { ref: 'Doc' },
    },
  },
  Item: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      ports: { type: 'array', items: { type: 'integer' }, patchStrategy: 'merge' },
    },
  },
  Strategy: { type: 'object', properties: { type: { type: 'string' }, rolling: { ref: 'Item' } } },
};
const schema: PatchSchema = {
  root: { ref: 'Doc' },
  resolve: (n) => {
    let c: SchemaNode | undefined = n;
    while (c?.ref !== undefined) c = defs[c.ref];
    return c;
  },
};

function apply(doc: Record<string, unknown>, patch: unknown): unknown {
  const before = JSON.stringify([doc, patch]);
  const out = applyStrategicMergePatch(doc, patch, schema);
  assert.equal(JSON.stringify([doc, patch]), before, 'inputs not mutated');
  return out;
}

describe('applyStrategicMergePatch', () => {
  const cases: [string, Record<string, unknown>, unknown, unknown][] = [
    ['null deletes a field', { a: 1, b: 2 }, { a: null }, { b: 2 }],
    [
      // b cannot be ordered against the new c by live order, so patch items go first (upstream).
      'merges list items by merge key',
      { items: [{ name: 'a', value: '1' }, { name: 'b' }] },
      { items: [{ name: 'a', value: '2' }, { name: 'c' }] },
      { items: [{ name: 'a', value: '2' }, { name: 'c' }, { name: 'b' }] },
    ],
    [
      '$patch: delete removes a list item',
      { items: [{ name: 'a' }, { name: 'b' }] },
      { items: [{ name: 'a', $patch: 'delete' }] },
      { items: [{ name: 'b' }] },
    ],
    [
      '$patch: replace on a list replaces it',
      { items: [{ name: 'a', value: '1' }, { name: 'b' }] },
      { items: [{ name: 'c' }, { $patch: 'replace' }] },
      { items: [{ name: 'c' }] },
    ],
    [
      '$patch: replace on a map',
      { nested: { a: 1, b: 2 } },
      { nested: { $patch: 'replace', c: 3 } },
      { nested: { c: 3 } },
    ],
    [
      '$patch: delete on a map empties it',
      { nested: { a: 1 } },
      { nested: { $patch: 'delete' } },
      { nested: {} },
    ],
    [
      'primitive merge lists are unioned',
      { tags: ['a', 'b'] },
      { tags: ['b', 'c'] },
      { tags: ['a', 'b', 'c'] },
    ],
    [
      '$deleteFromPrimitiveList removes primitives',
      { tags: ['a', 'b', 'a'] },
      { '$deleteFromPrimitiveList/tags': ['a'] },
      { tags: ['b'] },
    ],
    [
      '$setElementOrder reorders the merged list',
      { items: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
      { '$setElementOrder/items': [{ name: 'c' }, { name: 'a' }, { name: 'b' }] },
      { items: [{ name: 'c' }, { name: 'a' }, { name: 'b' }] },
    ],
    [
      'lists without merge strategy are replaced',
      { atomic: [{ name: 'a', value: '1' }] },
      { atomic: [{ name: 'a' }] },
      { atomic: [{ name: 'a' }] },
    ],
    [
      '$retainKeys clears unlisted keys',
      { strategy: { type: 'Rolling', rolling: { name: 'x' } } },
      { strategy: { $retainKeys: ['type'], type: 'Recreate' } },
      { strategy: { type: 'Recreate' } },
    ],
    [
      'replace strategy replaces a map',
      { whole: { name: 'a', value: '1' } },
      { whole: { name: 'b' } },
      { whole: { name: 'b' } },
    ],
    [
      'maps merge',
      { labels: { a: 'x', b: 'y' } },
      { labels: { b: null, c: 'z' } },
      { labels: { a: 'x', c: 'z' } },
    ],
    [
      'unknown fields merge like a merge patch, lists replace',
      { extra: { a: 1, l: [{ name: 'x' }] } },
      { extra: { b: 2, l: [{ name: 'y' }] } },
      { extra: { a: 1, b: 2, l: [{ name: 'y' }] } },
    ],
    ['new values are cleaned of nulls and directives', {}, { m: { a: null, b: 1 } }, { m: { b: 1 } }],
  ];
  for (const [name, doc, patch, want] of cases) {
    it(name, () => assert.deepEqual(apply(doc, patch), want));
  }

  const errors: [string, Record<string, unknown>, unknown, number, string][] = [
    [
      'missing merge key',
      { items: [{ name: 'a' }] },
      { items: [{ value: 'b' }] },
      500,
      'map: map[value:b] does not contain declared merge key: name',
    ],
    [
      'bad $retainKeys',
      { strategy: { type: 'x' } },
      { strategy: { $retainKeys: 'type' } },
      400,
      'invalid patch format of retainKeys',
    ],
    [
      'patch sets a key outside $retainKeys',
      { strategy: { type: 'x' } },
      { strategy: { $retainKeys: ['type'], rolling: {} } },
      400,
      'invalid patch format of retainKeys',
    ],
    [
      'bad parallel list key',
      { tags: ['a'] },
      { $deleteFromPrimitiveListtags: ['a'] },
      400,
      'invalid patch format of primitive list',
    ],
    [
      'unknown $patch directive',
      { nested: { a: 1 } },
      { nested: { $patch: 'frob' } },
      500,
      'unknown patch type: frob in map: map[$patch:frob]',
    ],
    [
      '$patch: merge in a list',
      { items: [{ name: 'a' }] },
      { items: [{ $patch: 'merge' }] },
      500,
      'merging lists cannot yet be specified in the patch',
    ],
    [
      'list of lists',
      { tags: [['a']] },
      { tags: [['b']] },
      422,
      'the server rejected our request due to an error in our request',
    ],
    [
      'setElementOrder disagreeing with the patch',
      { items: [{ name: 'a' }, { name: 'b' }] },
      { '$setElementOrder/items': [{ name: 'a' }, { name: 'b' }], items: [{ name: 'b' }, { name: 'a' }] },
      500,
      "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b]]\n",
    ],
    [
      'patch is not an object',
      {},
      [1],
      400,
      'json: cannot unmarshal array into Go value of type map[string]interface {}',
    ],
  ];
  for (const [name, doc, patch, code, message] of errors) {
    it(`error: ${name}`, () => {
      assert.throws(
        () => applyStrategicMergePatch(doc, patch, schema),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.code, code);
          assert.equal(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('createTwoWayMergePatch', () => {
  it('emits deletions, order and retainKeys directives', () => {
    const original = {
      items: [{ name: 'a', value: '1' }, { name: 'b' }],
      tags: ['x', 'y'],
      sources: [{ name: 's', value: 'v' }],
      gone: 1,
    };
    const modified = {
      items: [{ name: 'c' }, { name: 'a', value: '2' }],
      tags: ['y'],
      sources: [{ name: 's', other: 'o' }],
    };
    const patch = createTwoWayMergePatch(original, modified, schema);
    assert.deepEqual(patch, {
      gone: null,
      items: [{ name: 'c' }, { name: 'a', value: '2' }, { name: 'b', $patch: 'delete' }],
      '$setElementOrder/items': [{ name: 'c' }, { name: 'a' }],
      '$deleteFromPrimitiveList/tags': ['x'],
      '$setElementOrder/tags': ['y'],
      sources: [{ name: 's', other: 'o', value: null, $retainKeys: ['name', 'other'] }],
      '$setElementOrder/sources': [{ name: 's' }],
    });
    assert.deepEqual(applyStrategicMergePatch(original, patch, schema), modified);
  });

  it('is empty for equal documents', () => {
    const d = { items: [{ name: 'a' }], tags: ['a', 'b'], labels: { x: 'y' } };
    assert.deepEqual(createTwoWayMergePatch(d, structuredClone(d), schema), {});
  });
});

describe('createThreeWayMergePatch', () => {
  const original = { labels: { a: '1', b: '2' }, value: 'x' };
  const modified = { labels: { a: '1' }, value: 'y' };
  const current = { labels: { a: '1', b: '2', c: '3' }, value: 'z' };

  it('keeps live additions, applies deletions and changes (overwrite)', () => {
    const patch = createThreeWayMergePatch(original, modified, current, schema, true);
    assert.deepEqual(patch, { labels: { b: null }, value: 'y' });
    assert.deepEqual(applyStrategicMergePatch(current, patch, schema), {
      labels: { a: '1', c: '3' },
      value: 'y',
    });
  });

  it('reports conflicts without overwrite', () => {
    assert.throws(
      () => createThreeWayMergePatch(original, modified, current, schema, false),
      isPatchConflict,
    );
  });
});
