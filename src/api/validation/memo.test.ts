import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isDNS1123Label,
  nameIsDNSSubdomain,
  validateAnnotations,
  validateLabels,
} from '../../machinery/validation/names.js';
import { memoCheck, memoNameFunc, validateAnnotationsMemo, validateLabelsMemo } from './memo.js';

describe('validation memos', () => {
  it('give the same answers as the checks they wrap, first time and after', () => {
    const memo = memoCheck(isDNS1123Label);
    for (let round = 0; round < 2; round++) {
      for (const s of ['web', 'Web', 'a.b', '', 'x'.repeat(64), 'ok-1']) {
        assert.deepEqual(memo(s), isDNS1123Label(s), `${s} (round ${round})`);
      }
    }
    const name = memoNameFunc(nameIsDNSSubdomain);
    for (let round = 0; round < 2; round++) {
      for (const [s, prefix] of [
        ['web-', true],
        ['web-', false],
        ['a.b', false],
      ] as const) {
        assert.deepEqual(name(s, prefix), nameIsDNSSubdomain(s, prefix));
      }
    }
  });

  it('validate labels and annotations exactly as upstream rules do', () => {
    const maps: Record<string, string>[] = [
      { app: 'web', 'app.kubernetes.io/name': 'web' },
      { app: 'web', 'Bad Key': 'v' },
      { app: 'bad value!' },
      { 'example.com/': 'x' },
    ];
    for (let round = 0; round < 2; round++) {
      for (const m of maps) {
        assert.deepEqual(validateLabelsMemo(m, 'metadata.labels'), validateLabels(m, 'metadata.labels'));
        assert.deepEqual(
          validateAnnotationsMemo(m, 'metadata.annotations'),
          validateAnnotations(m, 'metadata.annotations'),
        );
      }
    }
    assert.deepEqual(validateLabelsMemo(undefined, 'x'), []);
  });

  it('still enforces the total annotation size once keys are known', () => {
    const small = { 'a.example.com/k': 'v' };
    assert.deepEqual(validateAnnotationsMemo(small, 'metadata.annotations'), []);
    const big = { 'a.example.com/k': 'v'.repeat(256 * 1024) };
    const errs = validateAnnotationsMemo(big, 'metadata.annotations');
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.type, 'FieldValueTooLong');
  });
});
