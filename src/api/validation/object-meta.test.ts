import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorMessage, invalid } from '../../machinery/status-error.js';
import { nameIsDNSSubdomain } from '../../machinery/validation/names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('object metadata', () => {
  it('requires a name or generateName', () => {
    const errs = validateObjectMeta({ namespace: 'default' }, true, nameIsDNSSubdomain);
    assert.deepEqual(errs.map(fieldErrorMessage), [
      'metadata.name: Required value: name or generateName is required',
    ]);
  });
  it('validates names, namespaces and scope', () => {
    const errs = validateObjectMeta({ name: 'Bad_Name', generateName: 'Gen-' }, true, nameIsDNSSubdomain);
    assert.deepEqual(errs.map(fieldErrorMessage), [
      `metadata.generateName: Invalid value: "Gen-": ${SUBDOMAIN_MSG}`,
      `metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`,
      'metadata.namespace: Required value',
    ]);
    assert.deepEqual(
      validateObjectMeta({ name: 'n', namespace: 'x' }, false, nameIsDNSSubdomain).map(fieldErrorMessage),
      ['metadata.namespace: Forbidden: not allowed on this type'],
    );
    assert.deepEqual(
      validateObjectMeta({ name: 'n', namespace: 'a.b' }, true, nameIsDNSSubdomain).map(fieldErrorMessage),
      ['metadata.namespace: Invalid value: "a.b": must not contain dots'],
    );
    assert.deepEqual(
      validateObjectMeta({ name: 'n', generation: -1 }, false, nameIsDNSSubdomain).map(fieldErrorMessage),
      ['metadata.generation: Invalid value: -1: must be greater than or equal to 0'],
    );
  });
  it('renders as upstream inside an Invalid status', () => {
    const long = 'A'.repeat(254);
    const errs = validateObjectMeta({ name: long }, false, nameIsDNSSubdomain);
    assert.equal(
      invalid('Namespace', '', 'x', errs).message,
      `Namespace "x" is invalid: [metadata.name: Invalid value: "${long}": must be no more than 253 characters, metadata.name: Invalid value: "${long}": ${SUBDOMAIN_MSG}]`,
    );
    assert.deepEqual(validateObjectMeta({ name: 'a'.repeat(254) }, false, nameIsDNSSubdomain).length, 1);
  });
  it('validates updates', () => {
    const old = {
      name: 'a',
      namespace: 'ns',
      uid: 'u1',
      resourceVersion: '5',
      generation: 2,
      creationTimestamp: '2024-01-01T00:00:00Z',
    };
    assert.deepEqual(validateObjectMetaUpdate({ ...old }, old), []);
    const errs = validateObjectMetaUpdate(
      { ...old, name: 'b', uid: 'u2', resourceVersion: '', generation: 1 },
      old,
    );
    assert.deepEqual(errs.map(fieldErrorMessage), [
      'metadata.resourceVersion: Invalid value: "": must be specified for an update',
      'metadata.generation: Invalid value: 1: must not be decremented',
      'metadata.name: Invalid value: "b": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
    const deleting = { ...old, deletionTimestamp: '2024-01-02T00:00:00Z', finalizers: ['a'] };
    const fin = validateObjectMetaUpdate({ ...deleting, finalizers: ['a', 'c', 'b'] }, deleting);
    assert.deepEqual(fin.map(fieldErrorMessage), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b", "c"}',
    ]);
  });
});
