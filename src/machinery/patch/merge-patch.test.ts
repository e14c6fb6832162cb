import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../status-error.js';
import { applyMergePatch, createMergePatch } from './merge-patch.js';

describe('applyMergePatch (RFC 7386)', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['sets and deletes', { a: 1, b: 2 }, { b: null, c: 3 }, { a: 1, c: 3 }],
    ['merges nested maps', { m: { x: 1, y: 2 } }, { m: { y: null, z: 3 } }, { m: { x: 1, z: 3 } }],
    ['replaces arrays', { l: [1, 2, 3] }, { l: [4] }, { l: [4] }],
    [
      'prunes nulls in added values',
      { a: 1 },
      { m: { x: null, y: { z: null, w: 1 } } },
      { a: 1, m: { y: { w: 1 } } },
    ],
    ['keeps null array elements', {}, { l: [null, 1] }, { l: [null, 1] }],
    ['replaces scalar with map (pruned)', { a: 1 }, { a: { b: null, c: 2 } }, { a: { c: 2 } }],
    ['replaces map with scalar', { a: { b: 1 } }, { a: 'x' }, { a: 'x' }],
    ['deleting a missing key is fine', { a: 1 }, { z: null }, { a: 1 }],
    ['array patch replaces the document', { a: 1 }, [1, { x: null }], [1, {}]],
  ];
  for (const [name, doc, patch, want] of cases) {
    it(name, () => {
      const before = JSON.stringify([doc, patch]);
      assert.deepEqual(applyMergePatch(doc, patch), want);
      assert.equal(JSON.stringify([doc, patch]), before, 'inputs not mutated');
    });
  }

  it('rejects a patch that is not an object or array with 400', () => {
    for (const p of [null, 'x', 3]) {
      assert.throws(
        () => applyMergePatch({}, p),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.code, 400);
          assert.equal(err.message, 'Invalid JSON Patch');
          return true;
        },
      );
    }
  });
});

describe('createMergePatch', () => {
  it('diffs maps recursively and nulls removed keys', () => {
    const original = { a: 1, b: { x: 1, y: 2 }, l: [1, 2], gone: true };
    const modified = { a: 1, b: { x: 1, y: 3 }, l: [1, 2, 3], added: 'v' };
    const patch = createMergePatch(original, modified);
    assert.deepEqual(patch, { b: { y: 3 }, l: [1, 2, 3], added: 'v', gone: null });
    assert.deepEqual(applyMergePatch(original, patch), modified);
  });

  it('is empty for equal documents', () => {
    assert.deepEqual(createMergePatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), {});
  });
});
