import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorMessage } from '../status-error.js';
import { labelSelectorHasInvalidLabelValue, validateLabelSelector, validateLabels } from './validation.js';

const messages = (errs: ReturnType<typeof validateLabels>): string[] => errs.map(fieldErrorMessage);

describe('validateLabels', () => {
  it('accepts valid keys and values', () => {
    assert.deepEqual(
      validateLabels(
        {
          app: 'web',
          'example.com/tier': 'front_end.1',
          'a.b/c': '',
          [`k${'x'.repeat(62)}`]: 'v'.repeat(63),
        },
        'metadata.labels',
      ),
      [],
    );
  });

  it('reports upstream messages for bad keys and values', () => {
    assert.deepEqual(messages(validateLabels({ 'bad key': 'v' }, 'metadata.labels')), [
      `metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ]);
    assert.deepEqual(messages(validateLabels({ a: 'v'.repeat(64) }, 'metadata.labels')), [
      `metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    ]);
    assert.deepEqual(messages(validateLabels({ 'Example.com/a': 'x' }, 'metadata.labels')), [
      `metadata.labels: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ]);
    assert.deepEqual(messages(validateLabels({ '/a': 'x' }, 'l')), [
      'l: Invalid value: "/a": prefix part must be non-empty',
    ]);
    assert.deepEqual(messages(validateLabels({ 'a/': 'x' }, 'l')), [
      'l: Invalid value: "a/": name part must be non-empty',
      `l: Invalid value: "a/": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ]);
    assert.equal(
      validateLabels({ [`${'a'.repeat(64)}`]: 'x' }, 'l')[0]?.detail,
      'name part must be no more than 63 characters',
    );
  });
});

describe('validateLabelSelector', () => {
  it('checks operators, value counts, keys and values', () => {
    const errs = validateLabelSelector(
      {
        matchLabels: { ok: 'yes' },
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'b', operator: 'Exists', values: ['x'] },
          { key: 'c', operator: 'Near', values: ['x'] },
          { key: 'd', operator: 'In', values: ['-bad'] },
        ],
      },
      {},
      'spec.selector',
    );
    assert.deepEqual(
      errs.map((e) => [e.type, e.field]),
      [
        ['FieldValueRequired', 'spec.selector.matchExpressions[0].values'],
        ['FieldValueForbidden', 'spec.selector.matchExpressions[1].values'],
        ['FieldValueInvalid', 'spec.selector.matchExpressions[2].operator'],
        ['FieldValueInvalid', 'spec.selector.matchExpressions[3].values[0]'],
      ],
    );
    assert.equal(
      fieldErrorMessage(errs[0] as (typeof errs)[0]),
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    );
    assert.equal(
      fieldErrorMessage(errs[2] as (typeof errs)[0]),
      'spec.selector.matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
    );
    assert.deepEqual(validateLabelSelector(undefined, {}, 'spec.selector'), []);
  });

  it('honours the tolerance options', () => {
    const ls = { matchExpressions: [{ key: 'd', operator: 'Near', values: ['-bad'] }] };
    assert.deepEqual(
      validateLabelSelector(
        ls,
        { allowInvalidLabelValueInSelector: true, allowUnknownOperatorInRequirement: true },
        's',
      ),
      [],
    );
    assert.ok(labelSelectorHasInvalidLabelValue(ls));
    assert.ok(
      !labelSelectorHasInvalidLabelValue({
        matchExpressions: [{ key: 'd', operator: 'In', values: ['ok'] }],
      }),
    );
  });
});
