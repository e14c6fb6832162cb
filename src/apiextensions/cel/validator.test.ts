import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps, ValidationRule } from '../../api/generated/types/apiextensions-v1.js';
import { fieldErrorMessage } from '../../machinery/status-error.js';
import { compileCustomResourceSchema, validateCrdSchema } from '../schema/index.js';

type Obj = Record<string, unknown>;

function schemaWith(
  specRules: ValidationRule[],
  extra: Record<string, JSONSchemaProps> = {},
): JSONSchemaProps {
  return {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': specRules,
        properties: {
          replicas: { type: 'integer' },
          minReplicas: { type: 'integer' },
          name: { type: 'string' },
          ...extra,
        },
      },
    },
  };
}

function errors(schema: JSONSchemaProps, obj: Obj, old?: Obj, warnings?: string[]): string[] {
  return compileCustomResourceSchema(schema).validate(obj, old, warnings).map(fieldErrorMessage);
}

const cr = (spec: Obj): Obj => ({ apiVersion: 'x.io/v1', kind: 'W', metadata: { name: 'a' }, spec });

describe('x-kubernetes-validations on custom objects', () => {
  const minRule = {
    rule: 'self.minReplicas <= self.replicas',
    message: 'minReplicas must not exceed replicas',
  };

  it('reports a failed rule with its message, at the rule node, valued by the schema type', () => {
    assert.deepEqual(errors(schemaWith([minRule]), cr({ replicas: 1, minReplicas: 3 })), [
      'spec: Invalid value: "object": minReplicas must not exceed replicas',
    ]);
    assert.deepEqual(errors(schemaWith([minRule]), cr({ replicas: 3, minReplicas: 1 })), []);
  });

  it('prints the rule when there is no message; root rules are at <nil>', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('w')" }],
      properties: { spec: { type: 'object' } },
    };
    assert.deepEqual(errors(s, cr({})), [
      `<nil>: Invalid value: "object": failed rule: self.metadata.name.startsWith('w')`,
    ]);
  });

  it('evaluates rules on scalars, items and map values with their paths', () => {
    const s = schemaWith([], {
      tags: {
        type: 'array',
        items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() <= 3' }] },
      },
      labels: {
        type: 'object',
        additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != ''" }] },
      },
    });
    assert.deepEqual(errors(s, cr({ tags: ['ok', 'toolong'], labels: { a: '' } })), [
      'spec.tags[1]: Invalid value: "string": failed rule: self.size() <= 3',
      'spec.labels[a]: Invalid value: "string": failed rule: self != \'\'',
    ]);
  });

  it('maps reason to the error type and appends fieldPath', () => {
    const rules: ValidationRule[] = [
      {
        rule: 'has(self.name)',
        message: 'name is required',
        reason: 'FieldValueRequired',
        fieldPath: '.name',
      },
      { rule: 'false', message: 'nope', reason: 'FieldValueForbidden' },
      { rule: 'false', reason: 'FieldValueDuplicate' },
    ];
    assert.deepEqual(errors(schemaWith(rules), cr({ replicas: 1 })), [
      'spec.name: Required value: name is required',
      'spec: Forbidden: nope',
      'spec: Duplicate value: "object"',
    ]);
  });

  it('evaluates messageExpression, falling back to the message when it fails', () => {
    const rules: ValidationRule[] = [
      { rule: 'self.replicas < 10', messageExpression: "'replicas is ' + string(self.replicas)" },
      { rule: 'self.replicas < 5', message: 'static', messageExpression: "self.name + '!'" },
    ];
    assert.deepEqual(errors(schemaWith(rules), cr({ replicas: 12 })), [
      'spec: Invalid value: "object": replicas is 12',
      'spec: Invalid value: "object": static',
    ]);
  });

  it('reports runtime errors with the rule', () => {
    assert.deepEqual(errors(schemaWith([{ rule: 'self.name.size() > 0' }]), cr({ replicas: 1 })), [
      'spec: Invalid value: "object": no such key: name evaluating rule: self.name.size() > 0',
    ]);
    const ios = schemaWith([], {
      port: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-validations': [{ rule: 'self > 0' }] },
    });
    assert.deepEqual(errors(ios, cr({ port: 'http' })), [
      `spec.port: Invalid value: "": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self > 0`,
    ]);
  });

  it('runs transition rules only on update, with oldSelf', () => {
    const s = schemaWith([], {
      name: {
        type: 'string',
        'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'name is immutable' }],
      },
    });
    assert.deepEqual(errors(s, cr({ name: 'a' })), []);
    assert.deepEqual(errors(s, cr({ name: 'b' }), cr({ name: 'a' })), [
      'spec.name: Invalid value: "string": name is immutable',
    ]);
    assert.deepEqual(errors(s, cr({ name: 'b' }), cr({})), []);
  });

  it('binds oldSelf as an optional with optionalOldSelf', () => {
    const s = schemaWith([], {
      name: {
        type: 'string',
        'x-kubernetes-validations': [
          { rule: "oldSelf.hasValue() ? self == oldSelf.value() : self == 'init'", optionalOldSelf: true },
        ],
      },
    });
    assert.equal(errors(s, cr({ name: 'x' })).length, 1);
    assert.deepEqual(errors(s, cr({ name: 'init' })), []);
    assert.deepEqual(errors(s, cr({ name: 'init' }), cr({ name: 'init' })), []);
  });

  it('correlates list-type=map items by key', () => {
    const s = schemaWith([], {
      ports: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, port: { type: 'integer' } },
          'x-kubernetes-validations': [{ rule: 'self.port == oldSelf.port', message: 'port is immutable' }],
        },
      },
    });
    const old = cr({
      ports: [
        { name: 'a', port: 1 },
        { name: 'b', port: 2 },
      ],
    });
    assert.deepEqual(
      errors(
        s,
        cr({
          ports: [
            { name: 'b', port: 2 },
            { name: 'a', port: 1 },
            { name: 'c', port: 3 },
          ],
        }),
        old,
      ),
      [],
    );
    assert.deepEqual(errors(s, cr({ ports: [{ name: 'b', port: 5 }] }), old), [
      'spec.ports[0]: Invalid value: "object": port is immutable',
    ]);
  });

  it('ratchets unchanged values that already failed, with a warning', () => {
    const s = schemaWith([], {
      name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() < 3' }] },
    });
    const warnings: string[] = [];
    assert.deepEqual(
      errors(s, cr({ name: 'long', replicas: 2 }), cr({ name: 'long', replicas: 1 }), warnings),
      [],
    );
    assert.deepEqual(warnings, ['spec.name: Invalid value: "string": failed rule: self.size() < 3']);
    assert.equal(errors(s, cr({ name: 'longer' }), cr({ name: 'long' })).length, 1);
  });

  it('skips rules when the object has blocking schema errors', () => {
    assert.deepEqual(errors(schemaWith([minRule]), cr({ replicas: 'x', minReplicas: 1 })), [
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  it('stops at the per-call cost limit', () => {
    const s = schemaWith([], {
      items: {
        type: 'array',
        items: { type: 'integer' },
        'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))' }],
      },
    });
    const items = Array.from({ length: 200 }, (_, i) => i);
    assert.deepEqual(errors(s, cr({ items })), [
      'spec.items: Invalid value: "array": \'operation cancelled: actual cost limit exceeded\': no further validation rules will be run due to call cost exceeds limit for rule: self.all(a, self.all(b, self.all(c, a + b + c >= 0)))',
    ]);
  });
});

describe('x-kubernetes-validations in CRD schemas', () => {
  const P = 'spec.validation.openAPIV3Schema';
  const check = (rules: ValidationRule[], extra: Record<string, JSONSchemaProps> = {}): string[] =>
    validateCrdSchema(schemaWith(rules, extra), P).map(fieldErrorMessage);

  it('accepts rules that compile', () => {
    assert.deepEqual(check([{ rule: 'self.minReplicas <= self.replicas' }, { rule: 'self == oldSelf' }]), []);
  });

  it('refuses a rule that does not compile with cel-go issues and the rule struct', () => {
    assert.deepEqual(check([{ rule: 'self.replicas > foo' }]), [
      `${P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.replicas > foo", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:17: undeclared reference to 'foo' (in container '')\n | self.replicas > foo\n | ................^`,
    ]);
  });

  it('refuses non-bool rules, bad messageExpressions and misplaced oldSelf', () => {
    const errs = check(
      [
        { rule: 'self.replicas' },
        { rule: 'true', messageExpression: '1' },
        { rule: 'true', optionalOldSelf: true },
      ],
      {
        tags: {
          type: 'array',
          items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] },
        },
      },
    );
    assert.deepEqual(
      errs.map((e) => e.replace(/apiextensions\.ValidationRule\{[^}]*\}/, 'RULE')),
      [
        `${P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: RULE: cel expression must evaluate to a bool`,
        `${P}.properties[spec].x-kubernetes-validations[1].messageExpression: Invalid value: RULE: messageExpression must evaluate to a string`,
        `${P}.properties[spec].x-kubernetes-validations[2].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`,
        `${P}.properties[spec].properties[tags].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ${P}.properties[spec].properties[tags]`,
      ],
    );
  });

  it('checks fieldPath against the schema', () => {
    assert.deepEqual(check([{ rule: 'true', fieldPath: '.nope' }]), [
      `${P}.properties[spec].x-kubernetes-validations[0].fieldPath: Invalid value: ".nope": fieldPath must be a valid path`,
    ]);
  });
});
