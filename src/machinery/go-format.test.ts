import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goFloat, goQuote, goSprintV } from './go-format.js';

describe('goQuote (strconv.Quote)', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['line\nnext\ttab\r', '"line\\nnext\\ttab\\r"'],
    ['\u0000\u001b\u007f', '"\\x00\\x1b\\x7f"'],
    ['\u0007\b\f\u000b', '"\\a\\b\\f\\v"'],
    ['héllo 世界 <&>', '"héllo 世界 <&>"'],
    ['\u2028\u00a0\u200b', '"\\u2028\\u00a0\\u200b"'],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.equal(goQuote(input), want));
});

describe('goFloat (%v of a float64)', () => {
  const cases: Array<[number, string]> = [
    [1.5, '1.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [123456.5, '123456.5'],
    [1234567.5, '1.2345675e+06'],
    [1e21, '1e+21'],
    [-2.25e-7, '-2.25e-07'],
    [1e100, '1e+100'],
  ];
  for (const [input, want] of cases) it(String(input), () => assert.equal(goFloat(input), want));
});

describe('goSprintV (%+v of decoded JSON)', () => {
  it('renders maps sorted, slices space-separated, strings bare', () => {
    assert.equal(
      goSprintV({ z: [1, 'a', null, true], a: { y: 2.5, b: {} }, m: [] }),
      'map[a:map[b:map[] y:2.5] m:[] z:[1 a <nil> true]]',
    );
  });
  it('prints integers in full', () => {
    assert.equal(goSprintV(2 ** 62), '4611686018427387904');
  });
});
