import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../machinery/status-error.js';
import { decodeYAML, decodeYAMLStream, encodeYAML } from './yaml.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError && e.code === 400, `expected a 400 StatusError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected an error');
}

describe('decodeYAML', () => {
  const cases: [string, string, unknown][] = [
    ['YAML 1.2 keys stay strings', 'on: 1\nyes: 2\nno: x\n', { on: 1, yes: 2, no: 'x' }],
    ['octal file modes as in go-yaml', 'defaultMode: 0644\n', { defaultMode: 420 }],
    ['timestamps stay strings', 'at: 2024-01-01T00:00:00Z\n', { at: '2024-01-01T00:00:00Z' }],
    ['merge keys', 'base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n', { base: { a: 1 }, x: { a: 1, c: 2 } }],
    ['empty document', '', null],
    ['numbers and nulls', 'a: 1.5\nb: ~\nc: -3\n', { a: 1.5, b: null, c: -3 }],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => assert.deepEqual(decodeYAML(text), want));
  }

  const errors: [string, string, RegExp][] = [
    ['syntax', 'a: b: c\n', /^error converting YAML to JSON: yaml: line 1: /],
    ['duplicate keys', 'a: 1\na: 2\n', /line 2: Map keys must be unique/],
    [
      'integer overflow',
      'n: 99999999999999999999\n',
      /integer 99999999999999999999 at n is outside the range/,
    ],
    ['infinity', 'x: .inf\n', /unsupported value: Infinity at x/],
    ['undefined alias', 'a: *nope\n', /error converting YAML to JSON/],
  ];
  for (const [name, text, re] of errors) {
    it(`error: ${name}`, () =>
      assert.match(
        errorOf(() => decodeYAML(text)),
        re,
      ));
  }

  it('stops alias bombs', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [p, c] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ]) {
      lines.push(`${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]`);
    }
    assert.match(
      errorOf(() => decodeYAML(lines.join('\n'))),
      /alias/i,
    );
  });

  it('rejects invalid UTF-8', () => {
    assert.match(
      errorOf(() => decodeYAML(new Uint8Array([0x61, 0x3a, 0x20, 0xc3, 0x28]))),
      /invalid UTF-8/,
    );
  });
});

describe('decodeYAMLStream', () => {
  it('splits documents and drops empty ones', () => {
    assert.deepEqual(decodeYAMLStream('a: 1\n---\n---\nb: 2\n---\n'), [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(decodeYAMLStream(''), []);
  });

  it('reports the line of an error in a later document', () => {
    assert.match(
      errorOf(() => decodeYAMLStream('a: 1\n---\nb: [\n')),
      /line \d+:/,
    );
  });
});

describe('encodeYAML', () => {
  it('writes kubectl-style YAML that reads back the same', () => {
    const obj = {
      metadata: { name: 'x', labels: { on: 'yes' } },
      spec: { list: [{ a: '0644' }], n: 3, e: {} },
    };
    const text = encodeYAML(obj);
    assert.match(text, /^spec:\n {2}list:\n {2}- a: "0644"$/m);
    assert.match(text, /"on": "yes"/);
    assert.deepEqual(decodeYAML(text), obj);
  });
});
