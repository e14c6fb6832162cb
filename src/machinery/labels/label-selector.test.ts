import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatLabelSelector,
  labelSelectorAsMap,
  labelSelectorAsSelector,
  parseToLabelSelector,
  setAsLabelSelector,
} from './label-selector.js';

describe('labelSelectorAsSelector', () => {
  it('treats nil as nothing and empty as everything', () => {
    assert.equal(labelSelectorAsSelector(undefined).matches({ a: 'b' }), false);
    assert.equal(labelSelectorAsSelector(null).matches({}), false);
    assert.equal(labelSelectorAsSelector({}).matches({ a: 'b' }), true);
    assert.equal(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).empty(), true);
  });

  it('combines matchLabels and matchExpressions', () => {
    const sel = labelSelectorAsSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'track', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(sel.toString(), 'app=web,env notin (prod),!legacy,tier in (a,b),track');
    assert.ok(sel.matches({ app: 'web', tier: 'a', track: '' }));
    assert.ok(!sel.matches({ app: 'web', tier: 'a', track: '', legacy: 'x' }));
    assert.ok(!sel.matches({ app: 'web', tier: 'c', track: '' }));
  });

  it('rejects invalid operators and value counts as upstream', () => {
    assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }), {
      message: '"Foo" is not a valid label selector operator',
    });
    assert.throws(
      () => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      {
        message: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
      },
    );
    assert.throws(
      () => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      {
        message:
          'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
      },
    );
  });
});

describe('formatLabelSelector', () => {
  const cases: Array<[Parameters<typeof formatLabelSelector>[0], string]> = [
    [undefined, '<none>'],
    [{}, '<none>'],
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [{ matchExpressions: [{ key: 'k', operator: 'In', values: ['v2', 'v1'] }] }, 'k in (v1,v2)'],
    [{ matchExpressions: [{ key: 'k', operator: 'Bad' }] }, '<error>'],
  ];
  for (const [ls, want] of cases) {
    it(`prints ${want}`, () => assert.equal(formatLabelSelector(ls), want));
  }
});

describe('conversions', () => {
  it('parses strings into LabelSelectors', () => {
    assert.deepEqual(parseToLabelSelector('app=web,tier in (b,a),!x,y'), {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'x', operator: 'DoesNotExist', values: [] },
        { key: 'y', operator: 'Exists', values: [] },
      ],
    });
    assert.throws(() => parseToLabelSelector('a>1'), { message: '"gt" isn\'t supported in label selectors' });
    assert.throws(() => parseToLabelSelector('('), {
      message: `couldn't parse the selector string "(": found '(', expected: !, identifier, or 'end of string'`,
    });
  });

  it('converts to plain maps where possible', () => {
    assert.deepEqual(
      labelSelectorAsMap({
        matchLabels: { a: '1' },
        matchExpressions: [{ key: 'b', operator: 'In', values: ['2'] }],
      }),
      { a: '1', b: '2' },
    );
    assert.equal(labelSelectorAsMap(undefined), undefined);
    assert.throws(() => labelSelectorAsMap({ matchExpressions: [{ key: 'b', operator: 'Exists' }] }), {
      message: 'operator "Exists" cannot be converted into the old label selector format',
    });
    assert.throws(
      () => labelSelectorAsMap({ matchExpressions: [{ key: 'b', operator: 'In', values: ['1', '2'] }] }),
      {
        message:
          'operator "In" without a single value cannot be converted into the old label selector format',
      },
    );
    assert.deepEqual(setAsLabelSelector({ a: '1' }), { matchLabels: { a: '1' } });
  });
});
