import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatDuration,
  formatDurationNs,
  humanDuration,
  parseDuration,
  parseDurationNs,
  shortHumanDuration,
  translateTimestampSince,
} from './duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDurationNs', () => {
  const good: Array<[string, bigint]> = [
    ['0', 0n],
    ['5s', 5_000_000_000n],
    ['30s', 30_000_000_000n],
    ['1478s', 1_478_000_000_000n],
    ['-5s', -5_000_000_000n],
    ['+5s', 5_000_000_000n],
    ['-0', 0n],
    ['+0', 0n],
    ['5.0s', 5_000_000_000n],
    ['5.6s', 5_600_000_000n],
    ['5.s', 5_000_000_000n],
    ['.5s', 500_000_000n],
    ['1.0s', 1_000_000_000n],
    ['1.00s', 1_000_000_000n],
    ['1.004s', 1_004_000_000n],
    ['100.00100s', 100_001_000_000n],
    ['10ns', 10n],
    ['11us', 11_000n],
    ['12\u00b5s', 12_000n],
    ['12\u03bcs', 12_000n],
    ['13ms', 13_000_000n],
    ['14s', 14_000_000_000n],
    ['15m', 900_000_000_000n],
    ['16h', 57_600_000_000_000n],
    ['3h30m', 12_600_000_000_000n],
    ['10.5s4m', 250_500_000_000n],
    ['-2m3.4s', -123_400_000_000n],
    ['1h2m3s4ms5us6ns', 3_723_004_005_006n],
    ['39h9m14.425s', 140_954_425_000_000n],
    ['52763797000ns', 52_763_797_000n],
    ['0.3333333333333333333h', 1_200_000_000_000n],
    ['9007199254740993ns', 9_007_199_254_740_993n],
    ['9223372036854775807ns', 9_223_372_036_854_775_807n],
    ['9223372036854775.807us', 9_223_372_036_854_775_807n],
    ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
    ['0.100000000000000000000h', 360_000_000_000n],
    ['0.830103483285477580700h', 2_988_372_539_827n],
  ];
  for (const [s, ns] of good) {
    it(`parses ${s}`, () => assert.equal(parseDurationNs(s), ns));
  }

  const bad: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['\u0085\u0085', 'time: invalid duration "\\xc2\\x85\\xc2\\x85"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['9223372036854ms775us808ns', 'time: invalid duration "9223372036854ms775us808ns"'],
    ['-9223372036854775809ns', 'time: invalid duration "-9223372036854775809ns"'],
  ];
  for (const [s, msg] of bad) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseDurationNs(s), { message: msg }));
  }

  it('converts to milliseconds', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1us'), 0.001);
  });
});

describe('formatDurationNs', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [1n, '1ns'],
    [1_100n, '1.1\u00b5s'],
    [2_200_000n, '2.2ms'],
    [3_300_000_000n, '3.3s'],
    [4n * 60n * 1_000_000_000n + 5_000_000_000n, '4m5s'],
    [4n * 60n * 1_000_000_000n + 5_001_000_000n, '4m5.001s'],
    [5n * 3_600_000_000_000n + 6n * 60_000_000_000n + 7_001_000_000n, '5h6m7.001s'],
    [8n * 60_000_000_000n + 1n, '8m0.000000001s'],
    [3_600_000_000_000n, '1h0m0s'],
    [60_000_000_000n, '1m0s'],
    [300_000_000n, '300ms'],
    [1_500_000_000n, '1.5s'],
    [9_223_372_036_854_775_807n, '2562047h47m16.854775807s'],
    [-9_223_372_036_854_775_808n, '-2562047h47m16.854775808s'],
    [-1_500_000_000n, '-1.5s'],
  ];
  for (const [ns, s] of cases) {
    it(`formats ${s}`, () => {
      assert.equal(formatDurationNs(ns), s);
      assert.equal(parseDurationNs(s), ns);
    });
  }

  it('formats milliseconds', () => {
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(10 * 60 * 1000), '10m0s');
    assert.equal(formatDuration(0.001), '1\u00b5s');
  });
});

describe('humanDuration', () => {
  const cases: Array<[number, string]> = [
    [S, '1s'],
    [70 * S, '70s'],
    [190 * S, '3m10s'],
    [70 * M, '70m'],
    [47 * H, '47h'],
    [49 * H, '2d1h'],
    [(8 * 24 + 2) * H, '8d'],
    [367 * D, '367d'],
    [(365 * 2 * 24 + 25) * H, '2y1d'],
    [(365 * 8 * 24 + 2) * H, '8y'],
    [-2 * S, '<invalid>'],
    [-2 * S + 1, '0s'],
    [0, '0s'],
    [S - 1, '0s'],
    [2 * M - 1, '119s'],
    [2 * M, '2m'],
    [2 * M + S, '2m1s'],
    [10 * M - 1, '9m59s'],
    [10 * M, '10m'],
    [10 * M + S, '10m'],
    [3 * H - 1, '179m'],
    [3 * H, '3h'],
    [3 * H + M, '3h1m'],
    [8 * H - 1, '7h59m'],
    [8 * H, '8h'],
    [8 * H + 59 * M, '8h'],
    [2 * D - 1, '47h'],
    [2 * D, '2d'],
    [2 * D + H, '2d1h'],
    [8 * D - 1, '7d23h'],
    [8 * D, '8d'],
    [8 * D + 23 * H, '8d'],
    [2 * 365 * D - 1, '729d'],
    [2 * 365 * D, '2y'],
    [2 * 365 * D + 23 * H + 59 * M, '2y'],
    [2 * 365 * D + D, '2y1d'],
    [8 * 365 * D - 1, '7y364d'],
    [8 * 365 * D, '8y'],
    [8 * 365 * D + 364 * D, '8y'],
    [9 * 365 * D, '9y'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }

  it('has a short form', () => {
    const short: Array<[number, string]> = [
      [-2 * S, '<invalid>'],
      [0, '0s'],
      [S, '1s'],
      [M - 1, '59s'],
      [M, '1m'],
      [H - 1, '59m'],
      [H, '1h'],
      [D - 1, '23h'],
      [D, '1d'],
      [365 * D - 1, '364d'],
      [365 * D, '1y'],
      [2 * 365 * D - 1, '1y'],
    ];
    for (const [ms, want] of short) assert.equal(shortHumanDuration(ms), want, `${ms}`);
  });

  it('computes ages from timestamps', () => {
    const now = Date.parse('2024-01-01T01:00:00Z');
    assert.equal(translateTimestampSince('2024-01-01T00:00:00Z', now), '60m');
    assert.equal(translateTimestampSince(undefined, now), '<unknown>');
    assert.equal(translateTimestampSince('garbage', now), '<unknown>');
  });
});
