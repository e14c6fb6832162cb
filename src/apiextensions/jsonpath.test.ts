import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findResults, parseJSONPath, printResult } from './jsonpath.js';

const obj = {
  metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'w' } },
  spec: { replicas: 3, tags: ['a', 'b'] },
  status: {
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'Synced', status: 'False' },
    ],
  },
};

describe('jsonpath', () => {
  const cases: Array<[string, unknown[]]> = [
    ['.spec.replicas', [3]],
    ['{.spec.replicas}', [3]],
    ['.spec.tags[1]', ['b']],
    ['.spec.tags[-1]', ['b']],
    ['.spec.tags[*]', ['a', 'b']],
    [".metadata.labels['app.kubernetes.io/name']", ['w']],
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    ['.status.conditions[?(@.type!="Ready")].type', ['Synced']],
    ['.spec.missing', []],
  ];
  for (const [path, want] of cases) {
    it(path, () => {
      const p = parseJSONPath(path);
      assert.ok(p);
      assert.deepEqual(findResults(p, obj), want);
    });
  }

  it('rejects what it cannot evaluate', () => {
    assert.equal(parseJSONPath('.spec[unclosed'), undefined);
  });

  it('prints results as kubectl does', () => {
    assert.equal(printResult('s'), 's');
    assert.equal(printResult(3), '3');
    assert.equal(printResult({ a: 1 }), '{"a":1}');
  });
});
