import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../machinery/status-error.js';
import { decodeJSON, decodeJSONWithDuplicates, MAX_JSON_DEPTH, parseJSONValue } from './json.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError && e.code === 400, `expected a 400 StatusError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected an error');
}

describe('decodeJSON', () => {
  it('decodes strings and bytes', () => {
    assert.deepEqual(decodeJSON('{"a":[1,"x",null,true]}'), { a: [1, 'x', null, true] });
    assert.deepEqual(decodeJSON(new TextEncoder().encode('{"é":"ü"}')), { é: 'ü' });
  });

  const syntax: [string, string, RegExp][] = [
    [
      'bad start',
      'x',
      /line 1, column 1 \(offset 0\): invalid character 'x' looking for beginning of value$/,
    ],
    ['empty', '', /unexpected end of JSON input/],
    ['truncated', '{"a":', /unexpected end of JSON input/],
    ['bad key', '{a:1}', /invalid character 'a' looking for beginning of object key string/],
    ['missing colon', '{"a" 1}', /invalid character '1' after object key$/],
    ['missing comma', '{"a":1 "b":2}', /invalid character '"' after object key:value pair/],
    ['array element', '[1 2]', /invalid character '2' after array element/],
    ['literal', '{"a":tru}', /invalid character '}' in literal true \(expecting 'e'\)/],
    ['control char', '{"a":"x\ny"}', /invalid character '\\n' in string literal/],
    ['escape', '{"a":"\\q"}', /invalid character 'q' in string escape code/],
    ['number', '{"a":-x}', /invalid character 'x' in numeric literal/],
    ['trailing', '{} x', /invalid character 'x' after top-level value/],
    ['position on line 3', '{\n"a": 1,\n  ?}', /line 3, column 3 \(offset 12\)/],
  ];
  for (const [name, text, re] of syntax) {
    it(`syntax error: ${name}`, () =>
      assert.match(
        errorOf(() => decodeJSON(text)),
        re,
      ));
  }

  it('requires an object at the top level', () => {
    assert.match(
      errorOf(() => decodeJSON('[1]')),
      /cannot unmarshal array/,
    );
    assert.deepEqual(parseJSONValue('[1]'), [1]);
  });

  it('enforces the nesting limit of 10,000', () => {
    const ok = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    assert.ok(Array.isArray(parseJSONValue(ok)));
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`;
    assert.match(
      errorOf(() => parseJSONValue(deep)),
      /exceeded max depth/,
    );
    assert.match(
      errorOf(() => decodeJSONWithDuplicates(`{"a":${deep}}`)),
      /exceeded max depth/,
    );
  });

  it('rejects invalid UTF-8 with the byte offset', () => {
    assert.match(
      errorOf(() => decodeJSON(new Uint8Array([0x7b, 0x22, 0xff, 0x22]))),
      /invalid UTF-8 at byte offset 2/,
    );
  });
});

describe('decodeJSONWithDuplicates', () => {
  it('reports duplicate keys by path, last one wins', () => {
    const text =
      '{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"x"},{"name":"y","name":"z"}]},"spec":{}}';
    const { value, duplicates } = decodeJSONWithDuplicates(text);
    assert.deepEqual(duplicates, ['metadata.name', 'spec.containers[1].name', 'spec']);
    assert.deepEqual(value, { metadata: { name: 'b' }, spec: {} });
  });

  it('handles escapes, numbers and __proto__ keys as data', () => {
    const { value, duplicates } = decodeJSONWithDuplicates(
      '{"s":"a\\u00e9\\n\\"","n":-1.5e2,"__proto__":{"x":1}}',
    );
    assert.deepEqual(duplicates, []);
    const v = value as Record<string, unknown>;
    assert.equal(v.s, 'aé\n"');
    assert.equal(v.n, -150);
    assert.deepEqual(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, { x: 1 });
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });
});

describe('decodeJSONWithDuplicates fast path (key counts)', () => {
  // Each document parses with JSON.parse; the counts must agree exactly when no key repeats,
  // whatever the strings contain, and any repeat must reach the exact scanner.
  const cases: [string, string, string[]][] = [
    ['escaped quotes and colons in values', '{"a":"x\\":\\"y","b":"\\\\","c":":"}', []],
    ['key-like text inside a string', '{"a":"{\\"b\\":1,\\"b\\":2}"}', []],
    ['whitespace around colons', '{ "a" :\n 1 , "b"\t: { "c" : [ "d" , "e" ] } }', []],
    ['a value ending in backslashes', '{"a":"\\\\\\\\","a":"x"}', ['a']],
    ['nested duplicate in an array', '{"l":[{"k":1},{"k":1,"j":2,"k":3}]}', ['l[1].k']],
    ['duplicate __proto__', '{"__proto__":1,"__proto__":2}', ['__proto__']],
    ['empty objects and arrays', '{"a":{},"b":[],"c":[{}]}', []],
    ['unicode keys', '{"é":1,"\\u00e9":2}', ['é']],
  ];
  for (const [name, text, dups] of cases) {
    it(name, () => {
      const { value, duplicates } = decodeJSONWithDuplicates(text);
      assert.deepEqual(duplicates, dups);
      assert.deepEqual(value, JSON.parse(text));
    });
  }

  it('returns top-level scalars and arrays as parsed', () => {
    assert.deepEqual(decodeJSONWithDuplicates('"x"'), { value: 'x', duplicates: [] });
    assert.deepEqual(decodeJSONWithDuplicates(' [1,{"a":2}] '), { value: [1, { a: 2 }], duplicates: [] });
  });

  it('words syntax errors as Go does when JSON.parse fails', () => {
    assert.match(
      errorOf(() => decodeJSONWithDuplicates('{"a":1 "b":2}')),
      /line 1, column 8 \(offset 7\): invalid character '"' after object key:value pair/,
    );
  });

  it('enforces the nesting limit after a successful parse', () => {
    const deep = `${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}`;
    assert.equal(decodeJSONWithDuplicates(deep).duplicates.length, 0);
    const tooDeep = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`;
    assert.match(
      errorOf(() => decodeJSONWithDuplicates(tooDeep)),
      /exceeded max depth/,
    );
  });
});
