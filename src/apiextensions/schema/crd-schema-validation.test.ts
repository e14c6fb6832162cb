import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import { fieldErrorMessage } from '../../machinery/status-error.js';
import { validateCrdSchema } from './index.js';
import { compileGoRegexp } from './regex.js';

const P = 'spec.versions[0].schema.openAPIV3Schema';

function spec(props: Record<string, JSONSchemaProps>): JSONSchemaProps {
  return { type: 'object', properties: { spec: { type: 'object', properties: props } } };
}

interface Case {
  name: string;
  schema: JSONSchemaProps;
  want: string[];
  status?: boolean;
}

const SP = `${P}.properties[spec].properties`;

const cases: Case[] = [
  {
    name: 'a valid schema',
    schema: spec({ replicas: { type: 'integer', default: 1, minimum: 0 } }),
    want: [],
  },
  {
    name: 'type required below the root',
    schema: spec({ a: {} }),
    want: [`${SP}[a].type: Required value: must not be empty for specified object fields`],
  },
  {
    name: 'type required at the root',
    schema: {},
    want: [`${P}.type: Required value: must not be empty at the root`],
  },
  {
    name: 'no type needed under preserve-unknown-fields',
    schema: spec({ a: { 'x-kubernetes-preserve-unknown-fields': true } }),
    want: [],
  },
  {
    name: 'no type needed for int-or-string',
    schema: spec({ a: { 'x-kubernetes-int-or-string': true } }),
    want: [],
  },
  {
    name: 'array items required',
    schema: spec({ a: { type: 'array' } }),
    want: [`${SP}[a].items: Required value: must be specified`],
  },
  {
    name: 'items as a list',
    schema: spec({ a: { type: 'array', items: [{ type: 'string' }] } }),
    want: [`${SP}[a].items: Forbidden: items must be a schema object and not an array`],
  },
  {
    name: '$ref is not supported',
    schema: spec({ a: { type: 'object', $ref: '#/definitions/x' } }),
    want: [`${SP}[a].$ref: Forbidden: $ref is not supported`],
  },
  {
    name: 'additionalProperties with properties',
    schema: spec({
      a: { type: 'object', properties: { b: { type: 'string' } }, additionalProperties: { type: 'string' } },
    }),
    want: [
      `${SP}[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ],
  },
  {
    name: 'uniqueItems',
    schema: spec({ a: { type: 'array', items: { type: 'string' }, uniqueItems: true } }),
    want: [
      `${SP}[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
    ],
  },
  {
    name: 'preserve-unknown-fields false',
    schema: spec({ a: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false } }),
    want: [`${SP}[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`],
  },
  {
    name: 'metadata may only restrict name and generateName',
    schema: {
      type: 'object',
      properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } },
    },
    want: [
      `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ],
  },
  {
    name: 'metadata name restriction is fine',
    schema: {
      type: 'object',
      properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 10 } } } },
    },
    want: [],
  },
  {
    name: 'defaults in top-level metadata are forbidden',
    schema: { type: 'object', properties: { metadata: { type: 'object', default: { name: 'x' } } } },
    want: [`${P}.properties[metadata].default: Forbidden: must not be set in top-level metadata`],
  },
  {
    name: 'nested value validation must not carry a type',
    schema: { type: 'object', properties: { a: { type: 'string', anyOf: [{ type: 'string' }] } } },
    want: [`${P}.properties[a].anyOf[0].type: Forbidden: must be empty to be structural`],
  },
  {
    name: 'value validation may only name declared fields',
    schema: { type: 'object', properties: { a: { type: 'string' } }, anyOf: [{ properties: { b: {} } }] },
    want: [`${P}.properties[b]: Required value: because it is defined in ${P}.anyOf[0].properties[b]`],
  },
  {
    name: 'int-or-string anyOf pattern is allowed',
    schema: spec({
      a: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
    }),
    want: [],
  },
  {
    name: 'default must have the right type (upstream prints the empty path as a double space)',
    schema: spec({ a: { type: 'integer', default: 'x' } }),
    want: [`${SP}[a].default: Invalid value: "string":  in body must be of type integer: "string"`],
  },
  {
    name: 'default must validate',
    schema: spec({ a: { type: 'integer', minimum: 2, default: 1 } }),
    want: [`${SP}[a].default: Invalid value: 1:  in body should be greater than or equal to 2`],
  },
  {
    name: 'default must be pruned',
    schema: spec({
      a: { type: 'object', properties: { b: { type: 'string' } }, default: { b: 'x', c: 'y' } },
    }),
    want: [`${SP}[a].default: Invalid value: {"b":"x","c":"y"}: must not have unknown fields`],
  },
  {
    name: 'invalid pattern',
    schema: spec({ a: { type: 'string', pattern: '(' } }),
    want: [
      `${SP}[a].pattern: Invalid value: "(": must be a valid regular expression, but isn't: error parsing regexp: missing closing ): \`(\``,
    ],
  },
  {
    name: 'list-type map needs keys',
    schema: spec({ a: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object' } } }),
    want: [
      `${SP}[a].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
    ],
  },
  {
    name: 'list-map keys must be required or defaulted',
    schema: spec({
      a: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', properties: { name: { type: 'string' } } },
      },
    }),
    want: [
      `${SP}[a].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
    ],
  },
  {
    name: 'list-type on a non-array',
    schema: spec({ a: { type: 'string', 'x-kubernetes-list-type': 'set' } }),
    want: [`${SP}[a].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified`],
  },
  {
    name: 'unknown list-type',
    schema: spec({ a: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'bag' } }),
    want: [
      `${SP}[a].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"`,
    ],
  },
  {
    name: 'embedded resource needs type object and properties',
    schema: spec({ a: { 'x-kubernetes-embedded-resource': true } }),
    want: [
      `${SP}[a].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
      `${SP}[a].type: Required value: must be object if x-kubernetes-embedded-resource is true`,
    ],
  },
  {
    name: 'nullable root',
    schema: { type: 'object', nullable: true },
    want: [`${P}.nullable: Forbidden: nullable cannot be true at the root`],
  },
  {
    name: 'unknown type',
    schema: spec({ a: { type: 'int' } }),
    want: [
      `${SP}[a].type: Unsupported value: "int": supported values: "array", "boolean", "integer", "number", "object", "string"`,
    ],
  },
  {
    name: 'CEL rules are accepted, their static shape checked',
    schema: spec({
      a: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() > 1' }, { rule: ' ' }] },
    }),
    want: [`${SP}[a].x-kubernetes-validations[1].rule: Required value: rule is not specified`],
  },
  {
    name: 'status subresource allows only object at the root',
    schema: { type: 'object', properties: {}, anyOf: [{ required: ['spec'] }] },
    status: true,
    want: [
      `${P}: Invalid value: v1.JSONSchemaProps{…}: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled`,
    ],
  },
];

describe('validateCrdSchema', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = validateCrdSchema(c.schema, P, { statusSubresource: c.status === true })
        .map(fieldErrorMessage)
        .sort();
      assert.deepEqual(got, [...c.want].sort());
    });
  }
});

describe('Go RE2 patterns', () => {
  const table: [string, string, boolean][] = [
    ['(?i)^abc$', 'ABC', true],
    ['^a\\z', 'a', true],
    ['^[[:alpha:]]+$', 'abc', true],
    ['^[[:digit:]]+$', 'ab', false],
    ['^\\pL+$', 'héllo', true],
    ['^\\p{Greek}+$', 'αβ', true],
    ['^\\Q.*\\E$', '.*', true],
    ['^(?P<x>a)b$', 'ab', true],
    ['^a{2}$', 'aa', true],
    ['^a{$', 'a{', true],
    ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'my-name', true],
    ['^\\-x$', '-x', true],
  ];
  for (const [pattern, input, match] of table) {
    it(`${pattern} on ${input}`, () => {
      const re = compileGoRegexp(pattern);
      assert.ok(re.ok, re.ok ? '' : re.error);
      if (re.ok) assert.equal(re.re.test(input), match);
    });
  }
  it('rejects what RE2 rejects', () => {
    for (const [pattern, msg] of [
      ['+', 'error parsing regexp: missing argument to repetition operator: `+`'],
      ['a(?=b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
      ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
      ['[a', 'error parsing regexp: missing closing ]: `[a`'],
      ['a)', 'error parsing regexp: unexpected ): `a)`'],
    ] as const) {
      const re = compileGoRegexp(pattern);
      assert.equal(re.ok ? 'compiled' : re.error, msg);
    }
  });
});
