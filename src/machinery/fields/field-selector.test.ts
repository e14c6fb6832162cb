import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  andSelectors,
  escapeValue,
  everything,
  FieldSelectorParseError,
  nothing,
  oneTermEqualSelector,
  oneTermNotEqualSelector,
  parseFieldSelector,
  selectorFromSet,
  unescapeValue,
} from './field-selector.js';

describe('parseFieldSelector', () => {
  // [input, canonical string]
  const good: Array<[string, string]> = [
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a=b'],
    ['a!=b', 'a!=b'],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['z=c,x=a', 'x=a,z=c'],
    ['x=a,', 'x=a'],
    ['x=', 'x='],
    ['metadata.name=foo,spec.nodeName!=', 'metadata.name=foo,spec.nodeName!='],
    ['x=a\\,b', 'x=a\\,b'],
    ['x=a\\=b', 'x=a\\=b'],
    ['x=a\\\\b', 'x=a\\\\b'],
  ];
  for (const [input, canonical] of good) {
    it(`parses ${JSON.stringify(input)}`, () =>
      assert.equal(parseFieldSelector(input).toString(), canonical));
  }

  const bad: Array<[string, string]> = [
    ['x', "invalid selector: 'x'; can't understand 'x'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['x=a=b', 'invalid field selector: unescaped character in value: 61'],
    ['x=a,b', "invalid selector: 'x=a,b'; can't understand 'b'"],
    ['x=a\\b', 'invalid field selector: invalid escape sequence: \\b'],
    ['x=a\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseFieldSelector(input),
        (e: unknown) => {
          assert.ok(e instanceof FieldSelectorParseError);
          assert.equal(e.message, message);
          return true;
        },
      );
    });
  }

  it('unescapes values for matching', () => {
    const s = parseFieldSelector('x=a\\,b\\=c\\\\d');
    assert.deepEqual(s.requirements(), [{ field: 'x', operator: '=', value: 'a,b=c\\d' }]);
    assert.ok(s.matches({ x: 'a,b=c\\d' }));
  });
});

describe('matching', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['', { x: 'y' }, true],
    ['x=y', { x: 'y' }, true],
    ['x=y,z=w', { x: 'y', z: 'w' }, true],
    ['x!=y,z!=w', { x: 'z', z: 'a' }, true],
    ['x=y', { x: 'z' }, false],
    ['x=y,z=w', { x: 'w', z: 'w' }, false],
    ['x!=y,z!=w', { x: 'z', z: 'w' }, false],
    ['x=', {}, true],
    ['x!=', {}, false],
    ['x!=y', {}, true],
    ['spec.nodeName=', { 'spec.nodeName': '' }, true],
  ];
  for (const [sel, fields, want] of cases) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(fields)} → ${want}`, () => {
      assert.equal(parseFieldSelector(sel).matches(fields), want);
    });
  }

  it('has everything/nothing and set selectors', () => {
    assert.ok(everything().empty());
    assert.ok(everything().matches({}));
    assert.ok(!nothing().matches({}));
    assert.ok(!nothing().empty());
    assert.ok(selectorFromSet({ a: '1', b: '2' }).matches({ a: '1', b: '2' }));
    assert.ok(selectorFromSet(undefined).empty());
    assert.equal(
      andSelectors(oneTermEqualSelector('a', 'x,y'), oneTermNotEqualSelector('b', '')).toString(),
      'a=x\\,y,b!=',
    );
  });
});

describe('requiresExactMatch and transform', () => {
  it('finds exact matches only for = terms', () => {
    const s = parseFieldSelector('metadata.name=foo,spec.nodeName!=bar');
    assert.equal(s.requiresExactMatch('metadata.name'), 'foo');
    assert.equal(s.requiresExactMatch('spec.nodeName'), undefined);
  });

  it('rewrites terms and drops emptied ones', () => {
    const s = parseFieldSelector('name=foo,ns=bar', (f, v) => (f === 'ns' ? ['', ''] : [`metadata.${f}`, v]));
    assert.equal(s.toString(), 'metadata.name=foo');
    assert.ok(!s.empty());
    const all = parseFieldSelector('a=b').transform(() => ['', '']);
    assert.ok(all.empty());
  });

  it('propagates transform errors', () => {
    assert.throws(
      () =>
        parseFieldSelector('bad=1', (f) => {
          throw new Error(`field label not supported: ${f}`);
        }),
      { message: 'field label not supported: bad' },
    );
  });

  it('escapes and unescapes values', () => {
    assert.equal(escapeValue('a,b=c\\'), 'a\\,b\\=c\\\\');
    assert.equal(unescapeValue(escapeValue('a,b=c\\')), 'a,b=c\\');
    assert.equal(unescapeValue('plain'), 'plain');
  });
});
