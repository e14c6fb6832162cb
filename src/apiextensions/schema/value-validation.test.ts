import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import { fieldErrorMessage } from '../../machinery/status-error.js';
import { compileCustomResourceSchema } from './index.js';

function messages(schema: JSONSchemaProps, obj: Record<string, unknown>): string[] {
  return compileCustomResourceSchema(schema).validate(obj).map(fieldErrorMessage).sort();
}

function field(f: JSONSchemaProps): JSONSchemaProps {
  return { type: 'object', properties: { field: f } };
}

interface Case {
  name: string;
  schema: JSONSchemaProps;
  obj: Record<string, unknown>;
  want: string[];
}

// Expected messages are upstream's (apiextensions-apiserver validation tests and kubectl output).
const cases: Case[] = [
  {
    name: 'object type vs string',
    schema: field({ type: 'object' }),
    obj: { field: 'foo' },
    want: ['field: Invalid value: "string": field in body must be of type object: "string"'],
  },
  {
    name: 'object type vs integer',
    schema: field({ type: 'object' }),
    obj: { field: 42 },
    want: ['field: Invalid value: "integer": field in body must be of type object: "integer"'],
  },
  {
    name: 'object type vs float',
    schema: field({ type: 'object' }),
    obj: { field: 1.2 },
    want: ['field: Invalid value: "number": field in body must be of type object: "number"'],
  },
  {
    name: 'object type vs array',
    schema: field({ type: 'object' }),
    obj: { field: [] },
    want: ['field: Invalid value: "array": field in body must be of type object: "array"'],
  },
  {
    name: 'non-nullable null',
    schema: field({ type: 'object' }),
    obj: { field: null },
    want: ['field: Invalid value: "null": field in body must be of type object: "null"'],
  },
  {
    name: 'nullable null',
    schema: field({ type: 'object', nullable: true }),
    obj: { field: null },
    want: [],
  },
  {
    name: 'int-or-string vs boolean',
    schema: field({ 'x-kubernetes-int-or-string': true }),
    obj: { field: true },
    want: ['field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"'],
  },
  {
    name: 'int-or-string accepts both',
    schema: field({ 'x-kubernetes-int-or-string': true }),
    obj: { field: '25%' },
    want: [],
  },
  {
    name: 'anyOf keeps the best failing branch',
    schema: field({
      nullable: true,
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    }),
    obj: { field: 1.2 },
    want: [
      '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      '<nil>: Invalid value: "": Checked value must be of type integer (default format) in field',
      'field: Invalid value: "number": field in body must be of type integer,string: "number"',
      'field: Invalid value: "number": field in body must be of type integer: "number"',
    ],
  },
  {
    name: 'allOf with nested anyOf',
    schema: field({
      nullable: true,
      'x-kubernetes-int-or-string': true,
      allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }],
    }),
    obj: { field: true },
    want: [
      '<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated',
      '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
      'field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"',
      'field: Invalid value: "boolean": field in body must be of type integer: "boolean"',
    ],
  },
  {
    name: 'invalid pattern',
    schema: field({ type: 'string', pattern: '+' }),
    obj: { field: 'foo' },
    want: [
      'field: Invalid value: "foo": field in body should match \'+, but pattern is invalid: error parsing regexp: missing argument to repetition operator: `+`\'',
    ],
  },
  {
    name: 'required at the root',
    schema: { type: 'object', required: ['field'], properties: { field: { type: 'object' } } },
    obj: { test: 'a' },
    want: ['field: Required value'],
  },
  {
    name: 'required nested',
    schema: field({ type: 'object', required: ['nested'], properties: { nested: {} } }),
    obj: { field: {} },
    want: ['field.nested: Required value'],
  },
  {
    name: 'type and enum both reported',
    schema: field({
      type: 'object',
      properties: {
        nestedint: { type: 'integer', enum: [1, 2] },
        nestedstring: { type: 'string', enum: ['a', 'b'] },
      },
    }),
    obj: { field: { nestedint: 'x', nestedstring: true } },
    want: [
      'field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string"',
      'field.nestedint: Unsupported value: "x": supported values: "1", "2"',
      'field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean"',
      'field.nestedstring: Unsupported value: true: supported values: "a", "b"',
    ],
  },
  {
    name: 'maxProperties',
    schema: field({ type: 'object', maxProperties: 2 }),
    obj: { field: { a: true, b: true, c: true } },
    want: ['field: Too many: 3: must have at most 2 items'],
  },
  {
    name: 'maxItems',
    schema: field({ type: 'array', items: { type: 'string' }, maxItems: 2 }),
    obj: { field: ['a', 'b', 'c'] },
    want: ['field: Too many: 3: must have at most 2 items'],
  },
  {
    name: 'maxLength',
    schema: field({ type: 'string', maxLength: 2 }),
    obj: { field: 'abc' },
    want: ['field: Too long: may not be more than 2 bytes'],
  },
  {
    name: 'maxLength counts characters, not bytes',
    schema: field({ type: 'string', maxLength: 2 }),
    obj: { field: 'éé' },
    want: [],
  },
  {
    name: 'minLength',
    schema: field({ type: 'string', minLength: 1 }),
    obj: { field: '' },
    want: ['field: Invalid value: "": field in body should be at least 1 chars long'],
  },
  {
    name: 'minimum',
    schema: field({ type: 'integer', minimum: 1 }),
    obj: { field: 0 },
    want: ['field: Invalid value: 0: field in body should be greater than or equal to 1'],
  },
  {
    name: 'exclusive maximum of a float',
    schema: field({ type: 'number', maximum: 1.5, exclusiveMaximum: true }),
    obj: { field: 1.5 },
    want: ['field: Invalid value: 1.5: field in body should be less than 1.5'],
  },
  {
    name: 'multipleOf',
    schema: field({ type: 'integer', multipleOf: 5 }),
    obj: { field: 7 },
    want: ['field: Invalid value: 7: field in body should be a multiple of 5'],
  },
  {
    name: 'int32 range',
    schema: field({ type: 'integer', format: 'int32' }),
    obj: { field: 2147483648 },
    want: ['<nil>: Invalid value: "": Checked value must be of type integer with format int32 in field'],
  },
  {
    name: 'enum',
    schema: {
      type: 'object',
      properties: { spec: { type: 'object', properties: { size: { type: 'string', enum: ['a', 'b'] } } } },
    },
    obj: { spec: { size: 'x' } },
    want: ['spec.size: Unsupported value: "x": supported values: "a", "b"'],
  },
  {
    name: 'pattern',
    schema: field({ type: 'string', pattern: '^a$' }),
    obj: { field: 'b' },
    want: ['field: Invalid value: "b": field in body should match \'^a$\''],
  },
  {
    name: 'format ipv4',
    schema: field({ type: 'string', format: 'ipv4' }),
    obj: { field: '1.2.3' },
    want: ['field: Invalid value: "1.2.3": field in body must be of type ipv4: "1.2.3"'],
  },
  {
    name: 'format date-time keeps its spelling',
    schema: field({ type: 'string', format: 'date-time' }),
    obj: { field: 'yesterday' },
    want: ['field: Invalid value: "yesterday": field in body must be of type date-time: "yesterday"'],
  },
  {
    name: 'unsupported formats are ignored',
    schema: field({ type: 'string', format: 'k8s-magic' }),
    obj: { field: '!' },
    want: [],
  },
  {
    name: 'minItems',
    schema: field({ type: 'array', items: { type: 'string' }, minItems: 1 }),
    obj: { field: [] },
    want: ['field: Invalid value: 0: field in body should have at least 1 items'],
  },
  {
    name: 'items path',
    schema: field({ type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } }),
    obj: { field: [{ n: 1 }, { n: 'x' }] },
    want: ['field[1].n: Invalid value: "string": field[1].n in body must be of type integer: "string"'],
  },
  {
    name: 'additionalProperties schema',
    schema: field({ type: 'object', additionalProperties: { type: 'string' } }),
    obj: { field: { a: 1 } },
    want: ['field.a: Invalid value: "integer": field.a in body must be of type string: "integer"'],
  },
  {
    name: 'oneOf with two matches',
    schema: field({ type: 'integer', oneOf: [{ minimum: 1 }, { maximum: 10 }] }),
    obj: { field: 5 },
    want: [
      '<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ],
  },
  {
    name: 'not',
    schema: field({ type: 'string', not: { enum: ['x'] } }),
    obj: { field: 'x' },
    want: ['<nil>: Invalid value: "": "field" must not validate the schema (not)'],
  },
  {
    name: 'list-type set duplicates',
    schema: field({ type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } }),
    obj: { field: ['a', 'b', 'a', 'a'] },
    want: ['field[2]: Duplicate value: "a"'],
  },
  {
    name: 'list-type map duplicate keys',
    schema: field({
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' } } },
    }),
    obj: { field: [{ name: 'a' }, { name: 'a', x: 1 }] },
    want: ['field[1]: Duplicate value: map[string]interface {}{"name":"a"}'],
  },
  {
    name: 'embedded resource needs apiVersion and kind',
    schema: field({
      type: 'object',
      'x-kubernetes-embedded-resource': true,
      'x-kubernetes-preserve-unknown-fields': true,
    }),
    obj: { field: { metadata: { name: 'a/b' } } },
    want: [
      'field.metadata.name: Invalid value: "a/b": may not contain \'/\'',
      'field.apiVersion: Required value',
      'field.kind: Required value',
    ].sort(),
  },
];

describe('custom resource validation messages', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(messages(c.schema, c.obj), [...c.want].sort());
    });
  }

  it('validates status alone with paths under status', () => {
    const s = compileCustomResourceSchema({
      type: 'object',
      properties: { status: { type: 'object', properties: { replicas: { type: 'integer' } } } },
    });
    assert.deepEqual(s.validateStatus({ replicas: 'x' }).map(fieldErrorMessage), [
      'status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"',
    ]);
  });
});
