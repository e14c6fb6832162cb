import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  atoi,
  getScaledValueFromIntOrPercent,
  getValueFromIntOrPercent,
  intOrStringToString,
  intOrStringValue,
  intOrStringValueOrDefault,
  parseIntOrString,
} from './intstr.js';

describe('getScaledValueFromIntOrPercent', () => {
  // [value, total, roundUp, expected]
  const cases: Array<[number | string, number, boolean, number]> = [
    [123, 0, false, 123],
    ['90%', 100, true, 90],
    ['90%', 95, true, 86],
    ['90%', 95, false, 85],
    ['25%', 3, true, 1],
    ['25%', 3, false, 0],
    ['0%', 10, true, 0],
    ['100%', 7, false, 7],
    ['-10%', 100, false, -10],
    ['+10%', 100, false, 10],
  ];
  for (const [v, total, up, want] of cases) {
    it(`${JSON.stringify(v)} of ${total} (roundUp=${up}) → ${want}`, () => {
      assert.equal(getScaledValueFromIntOrPercent(v, total, up), want);
    });
  }

  const errors: Array<[number | string | undefined, string]> = [
    [undefined, 'nil value for IntOrString'],
    ['90', 'invalid value for IntOrString: invalid type: string is not a percentage'],
    ['x%', 'invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax'],
    ['%', 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax'],
    [
      '1.5%',
      'invalid value for IntOrString: invalid value "1.5%": strconv.Atoi: parsing "1.5": invalid syntax',
    ],
    [
      '99999999999999999999%',
      'invalid value for IntOrString: invalid value "99999999999999999999%": strconv.Atoi: parsing "99999999999999999999": value out of range',
    ],
  ];
  for (const [v, msg] of errors) {
    it(`rejects ${JSON.stringify(v)}`, () => {
      assert.throws(() => getScaledValueFromIntOrPercent(v, 100, true), { message: msg });
    });
  }
});

describe('lenient and plain readers', () => {
  it('drops every % in the deprecated reader', () => {
    assert.equal(getValueFromIntOrPercent('50', 10, true), 5);
    assert.equal(getValueFromIntOrPercent('5%0', 10, true), 5);
    assert.throws(() => getValueFromIntOrPercent('a%', 10, true), {
      message: 'invalid value for IntOrString: invalid value "a%": strconv.Atoi: parsing "a": invalid syntax',
    });
  });

  it('reads ints and strings like upstream', () => {
    assert.equal(intOrStringValue(8080), 8080);
    assert.equal(intOrStringValue('8080'), 8080);
    assert.equal(intOrStringValue('http'), 0);
    assert.equal(intOrStringToString(5), '5');
    assert.equal(intOrStringToString('http'), 'http');
    assert.equal(parseIntOrString('80'), 80);
    assert.equal(parseIntOrString('http'), 'http');
    assert.equal(parseIntOrString('2147483648'), '2147483648');
    assert.equal(intOrStringValueOrDefault(undefined, '25%'), '25%');
    assert.equal(intOrStringValueOrDefault(1, '25%'), 1);
    assert.equal(atoi('-7'), -7);
  });
});
