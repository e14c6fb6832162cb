import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ERR_FORMAT_WRONG,
  ERR_SUFFIX,
  mustParse,
  parseQuantity,
  Quantity,
  type QuantityFormat,
  quantityFromJSON,
  canonicalQuantity,
  sumQuantities,
} from './quantity.js';

// [input, unscaled value, power of ten, format] — the amount and format upstream parses to.
const parseCases: Array<[string, bigint, number, QuantityFormat]> = [
  ['0', 0n, 0, 'DecimalSI'],
  ['0n', 0n, 0, 'DecimalSI'],
  ['0Ki', 0n, 0, 'BinarySI'],
  ['0M', 0n, 0, 'DecimalSI'],
  ['1', 1n, 0, 'DecimalSI'],
  ['1Ki', 1024n, 0, 'BinarySI'],
  ['7Mi', 7n * 1024n * 1024n, 0, 'BinarySI'],
  ['3Ei', 3n * 1024n ** 6n, 0, 'BinarySI'],
  ['5n', 5n, -9, 'DecimalSI'],
  ['4u', 4n, -6, 'DecimalSI'],
  ['3m', 3n, -3, 'DecimalSI'],
  ['50k', 5n, 4, 'DecimalSI'],
  ['300T', 3n, 14, 'DecimalSI'],
  ['1E', 1n, 18, 'DecimalSI'],
  ['1E-3', 1n, -3, 'DecimalExponent'],
  ['1e3', 1n, 3, 'DecimalExponent'],
  ['1.3E+6', 13n, 5, 'DecimalExponent'],
  ['100.035k', 100035n, 0, 'DecimalSI'],
  ['0.0005k', 5n, -1, 'DecimalSI'],
  ['0.5e-2', 5n, -3, 'DecimalExponent'],
  ['6.987654321G', 6987654321n, 0, 'DecimalSI'],
  ['3.001n', 4n, -9, 'DecimalSI'],
  ['1.1E-9', 2n, -9, 'DecimalExponent'],
  ['0.0000000001', 1n, -9, 'DecimalSI'],
  ['0.00000012345', 124n, -9, 'DecimalSI'],
  ['9Ei', 9223372036854775807n, 0, 'BinarySI'],
  ['9223372036854775807Ki', 9223372036854775807n, 0, 'BinarySI'],
  ['100.035Ki', 10243584n, -2, 'BinarySI'],
  ['0.5Mi', 524288n, 0, 'BinarySI'],
  ['0.000000000001Ki', 2n, -9, 'DecimalSI'],
  ['.001', 1n, -3, 'DecimalSI'],
  ['.0001k', 100n, -3, 'DecimalSI'],
  ['1.', 1n, 0, 'DecimalSI'],
  ['1.G', 1n, 9, 'DecimalSI'],
  ['.', 0n, 0, 'DecimalSI'],
  ['-', 0n, 0, 'DecimalSI'],
];

describe('parseQuantity', () => {
  for (const [input, unscaled, exp, format] of parseCases) {
    it(`parses ${input}`, () => {
      const q = parseQuantity(input);
      assert.equal(q.cmp(new Quantity(unscaled, exp, format)), 0, `${input} → ${q.toString()}`);
      assert.equal(q.format, format);
      if (input !== '.' && input !== '-') {
        const n = parseQuantity(`-${input}`);
        assert.equal(n.cmp(new Quantity(-unscaled, exp, format)), 0);
        assert.equal(n.format, format);
        assert.equal(parseQuantity(`+${input}`).cmp(q), 0);
      }
    });
  }

  const invalid: Array<[string, string]> = [
    ['', ERR_FORMAT_WRONG],
    ['1.1.M', ERR_FORMAT_WRONG],
    ['1+1.0M', ERR_FORMAT_WRONG],
    ['0.1mi', ERR_SUFFIX],
    ['0.1am', ERR_FORMAT_WRONG],
    ['aoeu', ERR_FORMAT_WRONG],
    ['.5i', ERR_SUFFIX],
    ['1i', ERR_SUFFIX],
    ['-3.01i', ERR_SUFFIX],
    ['-3.01e-', ERR_SUFFIX],
    [' 1', ERR_FORMAT_WRONG],
    ['1 ', ERR_FORMAT_WRONG],
    ['1e', ERR_SUFFIX],
    ['1K', ERR_SUFFIX],
    ['1e3m', ERR_FORMAT_WRONG],
  ];
  for (const [input, msg] of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseQuantity(input), { message: msg });
    });
  }

  it('uses the exact upstream regular-expression message', () => {
    assert.equal(
      ERR_FORMAT_WRONG,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    assert.throws(() => mustParse('x'), { message: `cannot parse 'x': ${ERR_FORMAT_WRONG}` });
  });
});

describe('canonical string', () => {
  // [value, exp, format, canonical, an alternate spelling that canonicalises to it]
  const cases: Array<[bigint, number, QuantityFormat, string, string]> = [
    [1024n * 1024n * 1024n, 0, 'BinarySI', '1Gi', '1024Mi'],
    [300n * 1024n * 1024n, 0, 'BinarySI', '300Mi', '307200Ki'],
    [1001n * 1024n ** 3n, 0, 'BinarySI', '1001Gi', '1025024Mi'],
    [1024n ** 4n, 0, 'BinarySI', '1Ti', '1024Gi'],
    [5n, 0, 'BinarySI', '5', '5000m'],
    [500n, -3, 'BinarySI', '500m', '0.5'],
    [1n, 9, 'DecimalSI', '1G', '1000M'],
    [1000n, 6, 'DecimalSI', '1G', '0.001T'],
    [1n, -3, 'DecimalSI', '1m', '1000u'],
    [1080n, -3, 'DecimalSI', '1080m', '1.08'],
    [108n, -2, 'DecimalSI', '1080m', '1080000000n'],
    [80n, -3, 'DecimalSI', '80m', ''],
    [1234567n, 6, 'DecimalSI', '1234567M', ''],
    [1234567n, -3, 'BinarySI', '1234567m', ''],
    [1025n, 0, 'BinarySI', '1025', ''],
    [0n, 0, 'BinarySI', '0', ''],
    [1n, 9, 'DecimalExponent', '1e9', '.001e12'],
    [1n, -3, 'DecimalExponent', '1e-3', '0.001e0'],
    [1n, -9, 'DecimalExponent', '1e-9', '1000e-12'],
    [80n, -3, 'DecimalExponent', '80e-3', ''],
    [300n, 6, 'DecimalExponent', '300e6', ''],
    [0n, 0, 'DecimalExponent', '0', '00'],
    [10800n, -10, 'DecimalSI', '1080n', ''],
    [1080n, -6, 'DecimalSI', '1080u', ''],
  ];
  for (const [v, e, f, canonical, alternate] of cases) {
    it(`prints ${canonical}`, () => {
      const q = new Quantity(v, e, f);
      assert.equal(q.toString(), canonical);
      assert.equal(parseQuantity(canonical).toString(), canonical);
      if (alternate !== '') assert.equal(parseQuantity(alternate).toString(), canonical);
      if (v !== 0n) assert.equal(q.neg().toString(), `-${canonical}`);
    });
  }

  const emit: Array<[string, string]> = [
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    ['0.1', '100m'],
    ['0.5', '500m'],
    ['1.5Gi', '1536Mi'],
    ['1000m', '1'],
    ['1e3', '1e3'],
    ['12e6', '12e6'],
    ['1.5', '1500m'],
    ['0.0001', '100u'],
    ['2048Ki', '2Mi'],
    ['1500Mi', '1500Mi'],
    ['0.5Gi', '512Mi'],
    ['1.1Ki', '1126400m'],
    ['100m', '100m'],
    ['12E', '12E'],
  ];
  for (const [input, want] of emit) {
    it(`canonicalises ${input} to ${want}`, () => {
      assert.equal(parseQuantity(input).toString(), want);
      if (want !== '0') assert.equal(parseQuantity(`-${input}`).toString(), `-${want}`);
    });
  }

  it('keeps the input text where upstream keeps it', () => {
    // upstream's parser caches the text when its fast path sees a canonical-looking shape
    assert.equal(parseQuantity('1E3').toString(), '1E3');
    assert.equal(parseQuantity('+1').toString(), '+1');
    assert.equal(parseQuantity('1.500').toString(), '1.500');
    assert.equal(parseQuantity('05').toString(), '05');
    assert.equal(parseQuantity('+1').add(Quantity.of(0)).toString(), '1');
  });

  it('serialises as JSON strings and canonicalises numbers', () => {
    assert.equal(JSON.stringify({ cpu: parseQuantity('0.5') }), '{"cpu":"500m"}');
    assert.equal(canonicalQuantity(0.5), '500m');
    assert.equal(canonicalQuantity(2), '2');
    assert.equal(canonicalQuantity(' 1Gi '), '1Gi');
    assert.equal(quantityFromJSON(null), undefined);
  });
});

describe('arithmetic', () => {
  it('compares across scales and formats', () => {
    assert.equal(parseQuantity('1Ki').cmp(parseQuantity('1024')), 0);
    assert.equal(parseQuantity('1').cmp(parseQuantity('999m')), 1);
    assert.equal(parseQuantity('-1').cmp(parseQuantity('1n')), -1);
    assert.equal(parseQuantity('1e9').cmp(parseQuantity('1G')), 0);
    assert.equal(parseQuantity('1e100').cmp(parseQuantity('9Ei')), 1);
    assert.equal(parseQuantity('1n').cmp(parseQuantity('0')), 1);
    assert.ok(parseQuantity('0m').isZero());
    assert.equal(parseQuantity('100m').cmpInt(1), -1);
  });

  it('adds and subtracts exactly', () => {
    assert.equal(parseQuantity('100m').add(parseQuantity('200m')).toString(), '300m');
    assert.equal(parseQuantity('0.1').add(parseQuantity('0.2')).cmp(parseQuantity('0.3')), 0);
    assert.equal(parseQuantity('1Gi').sub(parseQuantity('512Mi')).toString(), '512Mi');
    assert.equal(parseQuantity('1').sub(parseQuantity('1')).toString(), '0');
    assert.equal(parseQuantity('5').sub(parseQuantity('10')).toString(), '-5');
    assert.equal(parseQuantity('1Gi').mul(3).toString(), '3Gi');
  });

  it('takes the right-hand format when the left side is zero', () => {
    assert.equal(Quantity.of(0).add(parseQuantity('1Ki')).toString(), '1Ki');
    assert.equal(Quantity.of(0).sub(parseQuantity('1Ki')).toString(), '-1Ki');
    assert.equal(parseQuantity('0Mi').add(parseQuantity('0')).format, 'DecimalSI');
    assert.equal(sumQuantities([parseQuantity('1Mi'), parseQuantity('1Mi')]).toString(), '2Mi');
  });

  it('reads values rounded away from zero', () => {
    const cases: Array<[string, number, number]> = [
      ['1', 1, 1000],
      ['1.5', 2, 1500],
      ['-1.5', -2, -1500],
      ['100m', 1, 100],
      ['1n', 1, 1],
      ['1Ki', 1024, 1024000],
      ['1k', 1000, 1000000],
      ['0', 0, 0],
    ];
    for (const [s, value, milli] of cases) {
      assert.equal(parseQuantity(s).value(), value, s);
      assert.equal(parseQuantity(s).milliValue(), milli, s);
    }
    assert.equal(parseQuantity('1234567n').scaledValue(-6), 1235);
    assert.equal(parseQuantity('1').scaledValueBig(-9), 1000000000n);
  });

  it('builds quantities from integers like upstream constructors', () => {
    assert.equal(Quantity.milli(1000).toString(), '1');
    assert.equal(Quantity.milli(1024, 'BinarySI').toString(), '1024m');
    assert.equal(Quantity.of(1024, 'BinarySI').toString(), '1Ki');
    assert.equal(Quantity.of(1000).toString(), '1k');
    assert.equal(Quantity.of(1000000, 'DecimalExponent').toString(), '1e6');
    assert.equal(Quantity.scaled(1000, -9).toString(), '1u');
  });

  it('approximates floats', () => {
    assert.equal(parseQuantity('1.5').asApproximateFloat64(), 1.5);
    assert.equal(parseQuantity('100m').asApproximateFloat64(), 0.1);
    assert.equal(parseQuantity('1Ki').asApproximateFloat64(), 1024);
    assert.equal(parseQuantity('1e3').asApproximateFloat64(), 1000);
    assert.equal(parseQuantity('-12E').asApproximateFloat64(), -12e18);
  });

  it('rounds up to a scale and reports exactness', () => {
    const [q, exact] = parseQuantity('1234m').roundUp(0);
    assert.equal(q.toString(), '2');
    assert.equal(exact, false);
    assert.equal(parseQuantity('2').roundUp(-3)[1], true);
  });
});
