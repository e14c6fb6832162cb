import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../status-error.js';
import { JSONPatchError, MAX_JSON_PATCH_OPERATIONS, applyJSONPatch } from './json-patch.js';

const doc = () => ({ a: { b: [1, 2, 3], 'c/d': 'x', 'e~f': 'y' }, n: null });

describe('applyJSONPatch', () => {
  const ok: [string, unknown[], unknown][] = [
    ['add key', [{ op: 'add', path: '/z', value: 1 }], { ...doc(), z: 1 }],
    [
      'add appends with -',
      [{ op: 'add', path: '/a/b/-', value: 4 }],
      { ...doc(), a: { ...doc().a, b: [1, 2, 3, 4] } },
    ],
    [
      'add inserts at index',
      [{ op: 'add', path: '/a/b/0', value: 0 }],
      { ...doc(), a: { ...doc().a, b: [0, 1, 2, 3] } },
    ],
    [
      'add at len',
      [{ op: 'add', path: '/a/b/3', value: 9 }],
      { ...doc(), a: { ...doc().a, b: [1, 2, 3, 9] } },
    ],
    [
      'add negative index',
      [{ op: 'add', path: '/a/b/-1', value: 9 }],
      { ...doc(), a: { ...doc().a, b: [1, 2, 3, 9] } },
    ],
    ['add without value adds null', [{ op: 'add', path: '/z' }], { ...doc(), z: null }],
    [
      'escaped keys',
      [
        { op: 'replace', path: '/a/c~1d', value: 'X' },
        { op: 'remove', path: '/a/e~0f' },
      ],
      {
        ...doc(),
        a: { b: [1, 2, 3], 'c/d': 'X' },
      },
    ],
    ['remove array element', [{ op: 'remove', path: '/a/b/1' }], { ...doc(), a: { ...doc().a, b: [1, 3] } }],
    ['replace missing key adds (v4)', [{ op: 'replace', path: '/q', value: 2 }], { ...doc(), q: 2 }],
    ['replace root', [{ op: 'replace', path: '', value: { x: 1 } }], { x: 1 }],
    [
      'move',
      [{ op: 'move', from: '/a/b', path: '/b' }],
      { a: { 'c/d': 'x', 'e~f': 'y' }, n: null, b: [1, 2, 3] },
    ],
    [
      'copy',
      [{ op: 'copy', from: '/a/b/0', path: '/a/b/-' }],
      { ...doc(), a: { ...doc().a, b: [1, 2, 3, 1] } },
    ],
    ['copy of missing key copies null', [{ op: 'copy', from: '/nope', path: '/z' }], { ...doc(), z: null }],
    ['test passes', [{ op: 'test', path: '/a/b', value: [1, 2, 3] }], doc()],
    ['test null matches missing', [{ op: 'test', path: '/missing', value: null }], doc()],
    ['null patch', null as unknown as unknown[], doc()],
  ];
  for (const [name, ops, want] of ok) {
    it(name, () => {
      const input = doc();
      const before = JSON.stringify(input);
      assert.deepEqual(applyJSONPatch(input, ops), want);
      assert.equal(JSON.stringify(input), before, 'input not mutated');
    });
  }

  it('copies are independent of later writes', () => {
    const out = applyJSONPatch({ a: { x: 1 } }, [
      { op: 'add', path: '/a/y', value: 2 },
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'add', path: '/b/z', value: 3 },
    ]);
    assert.deepEqual(out, { a: { x: 1, y: 2 }, b: { x: 1, y: 2, z: 3 } });
  });

  const failing: [string, unknown[], string][] = [
    ['test fails', [{ op: 'test', path: '/a/b/0', value: 5 }], 'testing value /a/b/0 failed: test failed'],
    [
      'missing parent',
      [{ op: 'add', path: '/x/y', value: 1 }],
      'add operation does not apply: doc is missing path: "/x/y": missing value',
    ],
    [
      'remove missing key',
      [{ op: 'remove', path: '/zz' }],
      "error in remove for path: '/zz': Unable to remove nonexistent key: zz: missing value",
    ],
    [
      'index out of range',
      [{ op: 'add', path: '/a/b/5', value: 1 }],
      "error in add for path: '/a/b/5': Unable to access invalid index: 5: invalid index referenced",
    ],
    [
      'bad index',
      [{ op: 'add', path: '/a/b/x', value: 1 }],
      `error in add for path: '/a/b/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`,
    ],
    [
      'replace out of range',
      [{ op: 'replace', path: '/a/b/3', value: 1 }],
      'replace operation does not apply: doc is missing key: /a/b/3: missing value',
    ],
    ['unknown op', [{ op: 'frob', path: '/a' }], 'Unexpected kind: frob'],
    ['missing op', [{ path: '/a' }], 'Unexpected kind: unknown'],
    ['missing path', [{ op: 'add', value: 1 }], 'add operation failed to decode path: missing value'],
    [
      'null intermediate is missing',
      [{ op: 'add', path: '/n/x', value: 1 }],
      'add operation does not apply: doc is missing path: "/n/x": missing value',
    ],
  ];
  for (const [name, ops, cause] of failing) {
    it(`422 when ${name}`, () => {
      assert.throws(
        () => applyJSONPatch(doc(), ops),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.code, 422);
          assert.equal(err.reason, 'Invalid');
          assert.equal(err.message, 'the server rejected our request due to an error in our request');
          assert.ok(err.cause instanceof JSONPatchError);
          assert.equal(err.cause.message, cause);
          return true;
        },
      );
    });
  }

  it('400 for a body that is not a list of operations', () => {
    assert.throws(
      () => applyJSONPatch(doc(), { op: 'add' }),
      (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.code, 400);
        assert.equal(err.message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
        return true;
      },
    );
  });

  it('413 for too many operations', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({
      op: 'test',
      path: '/n',
      value: null,
    }));
    assert.throws(
      () => applyJSONPatch(doc(), ops),
      (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.code, 413);
        assert.equal(
          err.message,
          `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got ${MAX_JSON_PATCH_OPERATIONS + 1}`,
        );
        return true;
      },
    );
  });

  it('limits the bytes added by copy', () => {
    const ops = [
      { op: 'copy', from: '/s', path: '/t' },
      { op: 'copy', from: '/s', path: '/u' },
    ];
    assert.throws(
      () => applyJSONPatch({ s: 'x'.repeat(8) }, ops, { maxCopyBytes: 15 }),
      (err: unknown) => {
        assert.ok(err instanceof StatusError && err.cause instanceof JSONPatchError);
        assert.equal(
          err.cause.message,
          'Unable to complete the copy, the accumulated size increase of copy is 20, exceeding the limit 15',
        );
        return true;
      },
    );
  });
});
