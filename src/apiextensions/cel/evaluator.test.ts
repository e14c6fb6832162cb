import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import { compileExpression, runProgram } from './program.js';
import { schemaType } from './types.js';
import {
  CostLimitError,
  Duration,
  fromJSON,
  ListVal,
  MapVal,
  Optional,
  Timestamp,
  UInt,
  type Val,
} from './values.js';
import { formatTimestamp } from './stdlib.js';

const SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    replicas: { type: 'integer' },
    minReplicas: { type: 'integer' },
    ratio: { type: 'number' },
    name: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    port: { 'x-kubernetes-int-or-string': true },
    data: { type: 'string', format: 'byte' },
    timeout: { type: 'string', format: 'duration' },
    when: { type: 'string', format: 'date-time' },
    'x-dash': { type: 'string' },
    namespace: { type: 'string' },
    nested: { type: 'object', properties: { a: { type: 'integer' } } },
  },
};

const OBJ = {
  replicas: 3,
  minReplicas: 1,
  ratio: 0.5,
  name: 'web',
  tags: ['a', 'b'],
  labels: { app: 'x' },
  port: '50%',
  data: 'aGk=',
  timeout: '90s',
  when: '2024-02-03T04:05:06Z',
  'x-dash': 'd',
  namespace: 'ns',
};

function show(v: Val): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return `${v}d`;
  if (v instanceof UInt) return `${v.v}u`;
  if (v instanceof ListVal) return `[${v.values().map(show).join(', ')}]`;
  if (v instanceof MapVal)
    return `{${v
      .keys()
      .map((k) => `${show(k)}: ${show(v.get(k)!)}`)
      .join(', ')}}`;
  if (v instanceof Optional) return v.value === undefined ? 'none' : `some(${show(v.value)})`;
  if (v instanceof Duration) return `duration(${v.ns}ns)`;
  if (v instanceof Timestamp) return `timestamp(${formatTimestamp(v.ns)})`;
  if (v instanceof Uint8Array) return `b${JSON.stringify(Buffer.from(v).toString())}`;
  return String(v);
}

function run(src: string, limit = 1_000_000): string {
  const self = schemaType(SCHEMA, false)!;
  const p = compileExpression(src, new Map([['self', self]]));
  const r = runProgram(p, new Map([['self', fromJSON(OBJ, SCHEMA)]]), limit);
  if (r.error !== undefined) return `error: ${r.error.message}`;
  return show(r.value!);
}

function compileError(src: string): string {
  try {
    compileExpression(src, new Map([['self', schemaType(SCHEMA, false)!]]));
    return 'compiled';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('CEL evaluation', () => {
  const cases: Array<[string, string]> = [
    // literals
    ['1', '1'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['0x1F', '31'],
    ['7u', '7u'],
    ['1.5e3', '1500d'],
    ['.5', '0.5d'],
    ["'a\\tb'", '"a\\tb"'],
    ['"\\u00e9\\x41\\101"', '"éAA"'],
    ["r'\\d+'", '"\\\\d+"'],
    ["'''multi\nline'''", '"multi\\nline"'],
    ['b"\\xff"', 'b"\ufffd"'],
    ['null', 'null'],
    ['[1, 2][1]', '2'],
    ["{'a': 1, 'b': 2}['b']", '2'],
    // arithmetic and overflow
    ['7 / 2', '3'],
    ['-7 / 2', '-3'],
    ['-7 % 3', '-1'],
    ['9223372036854775807 + 1', 'error: integer overflow'],
    ['-9223372036854775808 - 1', 'error: integer overflow'],
    ['-(-9223372036854775808)', 'error: integer overflow'],
    ['1u - 2u', 'error: unsigned integer overflow'],
    ['1 / 0', 'error: division by zero'],
    ['1 % 0', 'error: modulus by zero'],
    ['1.0 / 0.0', 'Infinityd'],
    ["'ab' + 'cd'", '"abcd"'],
    ['[1] + [2, 3]', '[1, 2, 3]'],
    // comparisons across numeric types
    ['1 < 1.5', 'true'],
    ['2u > 1', 'true'],
    ['1.0 <= 1', 'true'],
    ['"a" < "b"', 'true'],
    ['1 in [1, 2]', 'true'],
    ["'x' in {'x': 1}", 'true'],
    ['dyn(1) == 1.0', 'true'],
    ['dyn(1u) == 1', 'true'],
    // logic: commutative error absorption
    ['1/0 == 1 || true', 'true'],
    ['true || 1/0 == 1', 'true'],
    ['false && 1/0 == 1', 'false'],
    ['1/0 == 1 && false', 'false'],
    ['1/0 == 1 && true', 'error: division by zero'],
    ['!true', 'false'],
    ['!!true', 'true'],
    ['true ? 1 : 1/0', '1'],
    // self
    ['self.minReplicas <= self.replicas', 'true'],
    ['self.ratio * 2.0', '1d'],
    ['has(self.name) && !has(self.nested)', 'true'],
    ['self.nested.a', 'error: no such key: nested'],
    ["self.labels.app == 'x'", 'true'],
    ["self.labels['nope']", 'error: no such key: nope'],
    ['self.tags[2]', "error: index '2' out of range in list size '2'"],
    ['self.x__dash__dash', '"d"'],
    ['self.__namespace__', '"ns"'],
    ['self.data', 'b"hi"'],
    ["self.timeout > duration('1m')", 'true'],
    ['self.when.getFullYear()', '2024'],
    ["type(self.port) == string && self.port.endsWith('%')", 'true'],
    ['self.port + 1', 'error: no such overload'],
    // macros
    ['self.tags.all(t, t.size() == 1)', 'true'],
    ["self.tags.exists(t, t == 'b')", 'true'],
    ["self.tags.exists_one(t, t != 'z')", 'false'],
    ['[1, 2, 3].map(x, x * 2)', '[2, 4, 6]'],
    ['[1, 2, 3].map(x, x > 1, x * 10)', '[20, 30]'],
    ['[1, 2, 3].filter(x, x % 2 == 1)', '[1, 3]'],
    ["{'a': 1, 'b': 2}.all(k, k.size() == 1)", 'true'],
    ['[0, -1].all(x, 1 / x > 0)', 'false'],
    ['[0, 1].all(x, 1 / x > 0)', 'error: division by zero'],
    ['[0, 1].exists(x, 1 / x > 0)', 'true'],
    ['[0].all(x, 1 / x > 0)', 'error: division by zero'],
    // conversions
    ["int('42') + int(2.9) + int(3u)", '47'],
    ["int('x')", 'error: strconv.ParseInt: parsing "x": invalid syntax'],
    ['int(1e19)', 'error: integer overflow'],
    ['uint(-1)', 'error: unsigned integer overflow'],
    ["double('2.5')", '2.5d'],
    ['string(1.0) + string(2u) + string(true) + string(-3)', '"12true-3"'],
    ["string(b'abc')", '"abc"'],
    ["bytes('é').size()", '2'],
    ["bool('true')", 'true'],
    ['type(1) == int && type(1u) == uint && type("") == string', 'true'],
    ["string(duration('1h1m'))", '"3660s"'],
    ["string(timestamp('2024-01-01T00:00:00Z') + duration('1.5s'))", '"2024-01-01T00:00:01.5Z"'],
    ["timestamp('2024-01-01T00:00:00Z') - timestamp('2023-12-31T00:00:00Z') == duration('24h')", 'true'],
    // strings and regexes
    ["size('héllo')", '5'],
    ["'hello'.contains('ell') && 'hello'.startsWith('he') && 'hello'.endsWith('lo')", 'true'],
    ["'abc123'.matches('^[a-z]+\\\\d+$')", 'true'],
    ["'x'.matches('(')", 'error: error parsing regexp: missing closing ): `(`'],
    ["'héllo'.charAt(1)", '"é"'],
    ["'hello'.indexOf('l') + 'hello'.lastIndexOf('l')", '5'],
    ["'Hello'.lowerAscii() + 'x'.upperAscii()", '"helloX"'],
    ["'a-b-c'.replace('-', '+', 1)", '"a+b-c"'],
    ["'a,b,c'.split(',')", '["a", "b", "c"]'],
    ["'hello'.substring(1, 3)", '"el"'],
    ["'hello'.substring(3, 1)", 'error: invalid substring range. start: 3, end: 1'],
    ["'  x '.trim()", '"x"'],
    ["['a', 'b'].join('-')", '"a-b"'],
    ["'%s is %d'.format([dyn('x'), 3])", '"x is 3"'],
    ["'%.2f'.format([1.0 / 3.0])", '"0.33"'],
    ["'abc123def'.find('[0-9]+')", '"123"'],
    ["'a1b22'.findAll('[0-9]+')", '["1", "22"]'],
    // lists library
    ['[1, 2, 3].isSorted() && ![2, 1].isSorted()', 'true'],
    ['[1, 2, 3].sum()', '6'],
    ['[3, 1, 2].min() + [3, 1, 2].max()', '4'],
    ['[1, 2, 1].indexOf(1) + [1, 2, 1].lastIndexOf(1)', '2'],
    ['[].min()', 'error: min(list) called on empty list'],
    // quantity, url, ip, cidr
    ["quantity('1Gi').isGreaterThan(quantity('1G'))", 'true'],
    ["quantity('500m').add(quantity('1500m')).asInteger()", '2'],
    ["isQuantity('1.5Ki') && !isQuantity('x')", 'true'],
    ["quantity('1.5').isInteger()", 'false'],
    ["quantity('1k') == quantity('1000')", 'true'],
    ["url('https://example.com:8443/a/b?x=1').getHost()", '"example.com:8443"'],
    ["isURL('https://example.com') && !isURL('example.com')", 'true'],
    ["ip('192.168.0.1').family() == 4 && ip('::1').isLoopback()", 'true'],
    ["isIP('1.2.3.04')", 'false'],
    ["cidr('10.0.0.0/8').containsIP(ip('10.2.3.4')) && !cidr('10.0.0.0/8').containsIP('11.0.0.1')", 'true'],
    ["string(cidr('192.168.1.7/24').masked())", '"192.168.1.0/24"'],
    ["ip.isCanonical('2001:db8::1') && !ip.isCanonical('2001:0db8::1')", 'true'],
    // optionals and sets
    ["self.?name.orValue('z')", '"web"'],
    ['self.?nested.?a.orValue(7)', '7'],
    ["self.labels[?'missing'].hasValue()", 'false'],
    ['optional.of(1).value() + optional.none().orValue(2)', '3'],
    ['[?optional.none(), ?optional.of(2)]', '[2]'],
    ['sets.contains([1, 2, 3], [1, 3]) && sets.intersects([1], [1, 5])', 'true'],
  ];
  for (const [src, want] of cases) {
    it(src, () => assert.equal(run(src), want));
  }

  it('stops a runaway rule at the cost limit', () => {
    const src =
      '[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, a + b + c > 0)))';
    const self = schemaType(SCHEMA, false)!;
    const p = compileExpression(src, new Map([['self', self]]));
    const r = runProgram(p, new Map([['self', fromJSON(OBJ, SCHEMA)]]), 500);
    assert.ok(r.error instanceof CostLimitError);
    assert.equal(r.error.message, 'operation cancelled: actual cost limit exceeded');
  });
});

describe('CEL compile errors', () => {
  const cases: Array<[string, string]> = [
    ['foo', "ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo\n | ^"],
    ['self.nope', "ERROR: <input>:1:5: undefined field 'nope'\n | self.nope\n | ....^"],
    [
      'self.replicas + "a"',
      "ERROR: <input>:1:15: found no matching overload for '_+_' applied to '(int, string)'\n | self.replicas + \"a\"\n | ..............^",
    ],
    [
      'self.name.startsWith(1)',
      "ERROR: <input>:1:21: found no matching overload for 'startsWith' applied to 'string.(int)'\n | self.name.startsWith(1)\n | ....................^",
    ],
    [
      '1 == 1.0',
      "ERROR: <input>:1:3: found no matching overload for '_==_' applied to '(int, double)'\n | 1 == 1.0\n | ..^",
    ],
    ["[1, 'a']", "ERROR: <input>:1:5: expected type 'int' but found 'string'\n | [1, 'a']\n | ....^"],
    [
      'self.replicas ==',
      "ERROR: <input>:1:17: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | self.replicas ==\n | ................^",
    ],
    [
      'self.a b',
      "ERROR: <input>:1:8: Syntax error: mismatched input 'b' expecting <EOF>\n | self.a b\n | .......^",
    ],
    ['has(self)', 'ERROR: <input>:1:5: invalid argument to has() macro\n | has(self)\n | ....^'],
    [
      'self.tags.all(1, true)',
      'ERROR: <input>:1:15: argument must be a simple name\n | self.tags.all(1, true)\n | ..............^',
    ],
    ['a # b', "ERROR: <input>:1:3: Syntax error: token recognition error at: '#'\n | a # b\n | ..^"],
    [
      'self.replicas.all(x, true)',
      "ERROR: <input>:1:18: expression of type 'int' cannot be range of a comprehension (must be list, map, or dynamic)\n | self.replicas.all(x, true)\n | .................^",
    ],
    [
      'self.tags.all(t, t)',
      "ERROR: <input>:1:14: found no matching overload for '_&&_' applied to '(bool, string)'\n | self.tags.all(t, t)\n | .............^",
    ],
    ['while', 'ERROR: <input>:1:1: Syntax error: reserved identifier: while\n | while\n | ^'],
    [
      '9223372036854775808',
      'ERROR: <input>:1:1: Syntax error: invalid int literal\n | 9223372036854775808\n | ^',
    ],
  ];
  for (const [src, want] of cases) {
    it(src, () => assert.equal(compileError(src), want));
  }
});
