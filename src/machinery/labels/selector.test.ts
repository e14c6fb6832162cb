import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  convertSelectorToLabelsMap,
  everything,
  formatLabels,
  labelsConflict,
  labelsEqual,
  labelsToString,
  newSelector,
  nothing,
  parseSelector,
  parseToRequirements,
  Requirement,
  SelectorParseError,
  selectorFromSet,
  validatedSelectorFromSet,
} from './selector.js';

const VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_RULE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('parseSelector', () => {
  // [input, canonical string]
  const good: Array<[string, string]> = [
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['', ''],
    ['x!=a,y=b', 'x!=a,y=b'],
    ['x=', 'x='],
    ['x= ', 'x='],
    ['x=,z= ', 'x=,z='],
    ['!x', '!x'],
    ['x>1', 'x>1'],
    ['x>1,z<5', 'x>1,z<5'],
    ['x=a,a=x', 'a=x,x=a'],
    ['\rx', 'x'],
    ['this-is-a-dns.domain.com/key-with-dash', 'this-is-a-dns.domain.com/key-with-dash'],
    [
      '0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)',
      '0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)',
    ],
    ['foo  in\t (abc)', 'foo in (abc)'],
    ['x notin\n (abc)', 'x notin (abc)'],
    ['x in (def,abc)', 'x in (abc,def)'],
    ['x in (abc,)', 'x in (,abc)'],
    ['x in ()', 'x in ()'],
    ['x notin (abc,,def),bar,z in (),w', 'bar,w,x notin (,abc,def),z in ()'],
    ['x,y in (a)', 'x,y in (a)'],
    ['x notin ( )', 'x notin ()'],
    ['x notin (, a)', 'x notin (,a)'],
    ['a ', 'a'],
    ['a in (x,y,notin, z,in)', 'a in (in,notin,x,y,z)'],
    ['notin=in', 'notin=in'],
    ['x==a', 'x==a'],
    ['x in (a,a)', 'x in (a)'],
  ];
  for (const [input, canonical] of good) {
    it(`parses ${JSON.stringify(input)}`, () => {
      assert.equal(parseSelector(input).toString(), canonical);
    });
  }

  const bad: Array<[string, string]> = [
    ['x=a||y=b', `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${VALUE_RULE}`],
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    [
      'x<a',
      `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    ['x,,y', "found ',', expected: identifier after ','"],
    [',x,y', "found ',', expected: !, identifier, or 'end of string'"],
    ['x nott in (y)', "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in (xyz),', "found '', expected: identifier after ','"],
    ['a in (xyz)b notin ()', "found 'b', expected: ',' or 'end of string'"],
    ['a in (xyz abc)', "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ['a notin(', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ['a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['(', "found '(', expected: !, identifier, or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['-x=1', `unable to parse requirement: <nil>: Invalid value: "-x": ${NAME_RULE}`],
    ['app:monolith', `unable to parse requirement: <nil>: Invalid value: "app:monolith": ${NAME_RULE}`],
    [
      'a/b/c=d',
      `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    [
      `x=${'a'.repeat(64)}`,
      `unable to parse requirement: values[0][x]: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
    ],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseSelector(input),
        (e: unknown) => {
          assert.ok(e instanceof SelectorParseError);
          assert.equal(e.message, message);
          return true;
        },
      );
    });
  }

  it('joins several requirement errors as an aggregate', () => {
    assert.throws(() => parseSelector('x in (-a,-b)'), {
      message: `unable to parse requirement: [values[0][x]: Invalid value: "-a": ${VALUE_RULE}, values[1][x]: Invalid value: "-b": ${VALUE_RULE}]`,
    });
  });

  it('puts a caller path in front of field names', () => {
    assert.throws(() => parseSelector('x=-a', 'spec.selector'), {
      message: `unable to parse requirement: spec.selector.values[0][x]: Invalid value: "-a": ${VALUE_RULE}`,
    });
  });
});

describe('matching', () => {
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['', { x: 'y' }, true],
    ['', undefined, true],
    ['x=y', { x: 'y' }, true],
    ['x=y,z=w', { x: 'y', z: 'w' }, true],
    ['x!=y,z!=w', { x: 'z', z: 'a' }, true],
    ['notin=in', { notin: 'in' }, true],
    ['x', { x: 'z' }, true],
    ['!x', { y: 'z' }, true],
    ['x>1', { x: '2' }, true],
    ['x<1', { x: '0' }, true],
    ['x=z', {}, false],
    ['x=y', { x: 'z' }, false],
    ['x=y,z=w', { x: 'w', z: 'w' }, false],
    ['x!=y,z!=w', { x: 'z', z: 'w' }, false],
    ['x', { y: 'z' }, false],
    ['!x', { x: 'z' }, false],
    ['x>1', { x: '0' }, false],
    ['x<1', { x: '2' }, false],
    ['x>1', { x: 'abc' }, false],
    ['x>1', {}, false],
    ['x!=y', {}, true],
    ['x notin (a,b)', {}, true],
    ['x notin (a,b)', { x: 'a' }, false],
    ['x in (a,b)', { x: 'b' }, true],
    ['x in (a,b)', { x: 'c' }, false],
    ['x=', { x: '' }, true],
    ['x', { toString: 'a' }, false],
  ];
  for (const [sel, labels, want] of cases) {
    it(`${JSON.stringify(sel)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(labels)}`, () => {
      assert.equal(parseSelector(sel).matches(labels), want);
    });
  }

  it('matches nothing for nothing() and everything for everything()', () => {
    assert.equal(nothing().matches({ a: 'b' }), false);
    assert.equal(nothing().empty(), false);
    assert.equal(nothing().matchesNothing(), true);
    assert.equal(everything().matches({ a: 'b' }), true);
    assert.equal(everything().empty(), true);
  });
});

describe('selectors from sets and requirements', () => {
  it('builds sorted exact-match selectors from a set', () => {
    const s = selectorFromSet({ b: '2', a: '1' });
    assert.equal(s.toString(), 'a=1,b=2');
    assert.ok(s.matches({ a: '1', b: '2', c: '3' }));
    assert.ok(selectorFromSet({}).empty());
    assert.ok(selectorFromSet(undefined).empty());
    assert.equal(s.requiresExactMatch('a'), '1');
    assert.equal(s.requiresExactMatch('c'), undefined);
  });

  it('validates sets when asked', () => {
    assert.throws(() => validatedSelectorFromSet({ a: '-' }), {
      message: `values[0][a]: Invalid value: "-": ${VALUE_RULE}`,
    });
    assert.throws(() => validatedSelectorFromSet({ '-': 'a' }), {
      message: `key: Invalid value: "-": ${NAME_RULE}`,
    });
  });

  it('reports requirement construction errors as upstream', () => {
    assert.throws(() => Requirement.create('x', 'in', []), {
      message: "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    });
    assert.throws(() => Requirement.create('x', '=', ['a', 'b']), {
      message:
        'values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one single value',
    });
    assert.throws(() => Requirement.create('x', 'exists', ['a']), {
      message: 'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist',
    });
  });

  it('prints requirements with sorted values', () => {
    const sel = newSelector(
      Requirement.create('z', 'notin', ['']),
      Requirement.create('x', 'in', ['def', 'abc']),
      Requirement.create('y', 'gt', ['2']),
    );
    assert.equal(sel.toString(), 'x in (abc,def),y>2,z notin ()');
    assert.equal(sel.add(Requirement.create('a', '!', [])).toString(), '!a,x in (abc,def),y>2,z notin ()');
    assert.equal(sel.requiresExactMatch('x'), undefined);
  });

  it('returns requirements sorted by key', () => {
    const reqs = parseToRequirements('b=1,a in (y,x)');
    assert.deepEqual(
      reqs.map((r) => [r.key, r.operator, r.values]),
      [
        ['a', 'in', ['x', 'y']],
        ['b', '=', ['1']],
      ],
    );
  });
});

describe('label sets', () => {
  it('formats and compares label sets', () => {
    assert.equal(labelsToString({ b: '2', a: '1' }), 'a=1,b=2');
    assert.equal(formatLabels({}), '<none>');
    assert.equal(formatLabels({ app: 'web' }), 'app=web');
    assert.ok(labelsConflict({ a: '1' }, { a: '2', b: '3' }));
    assert.ok(!labelsConflict({ a: '1' }, { b: '2' }));
    assert.ok(labelsEqual({ a: '1' }, { a: '1' }));
    assert.ok(!labelsEqual({ a: '1' }, { a: '1', b: '' }));
  });

  it('converts simple selectors to label maps', () => {
    assert.deepEqual(convertSelectorToLabelsMap('a=1, b = 2'), { a: '1', b: '2' });
    assert.deepEqual(convertSelectorToLabelsMap(''), {});
    assert.throws(() => convertSelectorToLabelsMap('a'), { message: 'invalid selector: [a]' });
    assert.throws(() => convertSelectorToLabelsMap('a=b=c'), { message: 'invalid selector: [a b c]' });
  });
});
