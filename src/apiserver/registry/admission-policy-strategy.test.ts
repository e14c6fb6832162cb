import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
} from '../../api/generated/types/admissionregistration-v1.js';
import { fieldErrorMessage } from '../../machinery/status-error.js';
import { validateBinding, validatePolicy } from './admission-policy-strategy.js';

const rules = {
  resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
};

function policy(spec: ValidatingAdmissionPolicy['spec']): ValidatingAdmissionPolicy {
  return { metadata: { name: 'p' }, spec };
}

describe('ValidatingAdmissionPolicy validation', () => {
  const cases: [string, ValidatingAdmissionPolicy['spec'], string[]][] = [
    ['valid', { failurePolicy: 'Fail', matchConstraints: rules, validations: [{ expression: 'true' }] }, []],
    [
      'nothing to validate',
      { failurePolicy: 'Fail', matchConstraints: rules },
      [
        'spec.validations: Required value: validations or auditAnnotations must contain at least one item',
        'spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item',
      ],
    ],
    [
      'no constraints, bad failure policy',
      { failurePolicy: 'Maybe', validations: [{ expression: 'true' }] },
      [
        'spec.failurePolicy: Unsupported value: "Maybe": supported values: "Fail", "Ignore"',
        'spec.matchConstraints: Required value',
      ],
    ],
    [
      'types and messages',
      {
        failurePolicy: 'Fail',
        matchConstraints: rules,
        matchConditions: [{ name: 'm', expression: "'x'" }],
        variables: [{ name: 'bad-name', expression: 'object' }],
        validations: [{ expression: 'true', message: 'two\nlines', reason: 'Teapot' }],
      },
      [
        `spec.matchConditions[0].expression: Invalid value: "'x'": must evaluate to bool`,
        'spec.variables[0].name: Invalid value: "bad-name": name is not a valid CEL identifier',
        'spec.validations[0].message: Invalid value: "two\\nlines": message must not contain line breaks',
        'spec.validations[0].reason: Unsupported value: "Teapot": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized"',
      ],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(validatePolicy(policy(spec)).map(fieldErrorMessage), want));
  }
});

describe('ValidatingAdmissionPolicyBinding validation', () => {
  const cases: [string, ValidatingAdmissionPolicyBinding['spec'], string[]][] = [
    ['valid', { policyName: 'p', validationActions: ['Deny'] }, []],
    [
      'no policy, no actions',
      { policyName: '', validationActions: [] },
      [
        'spec.policyName: Required value',
        'spec.validationActions: Required value: at least one validation action is required',
      ],
    ],
    [
      'params without a not-found action',
      { policyName: 'p', validationActions: ['Audit'], paramRef: { name: 'x' } },
      ['spec.paramRef.parameterNotFoundAction: Required value'],
    ],
    [
      'unknown and repeated actions',
      { policyName: 'p', validationActions: ['Block', 'Audit', 'Audit'] },
      [
        'spec.validationActions[0]: Unsupported value: "Block": supported values: "Audit", "Deny", "Warn"',
        'spec.validationActions[2]: Duplicate value: "Audit"',
      ],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () =>
      assert.deepEqual(validateBinding({ metadata: { name: 'b' }, spec }).map(fieldErrorMessage), want),
    );
  }
});
