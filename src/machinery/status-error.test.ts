import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alreadyExists,
  conflict,
  invalid,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  StatusError,
  toStatusError,
} from './status-error.js';

describe('StatusError', () => {
  it('renders NotFound like upstream', () => {
    const e = notFound({ group: 'apps', resource: 'deployments' }, 'web');
    assert.equal(e.status.message, 'deployments.apps "web" not found');
    assert.equal(e.code, 404);
    assert.deepEqual(e.status.details, { name: 'web', group: 'apps', kind: 'deployments' });
    assert.ok(isNotFound(e));
    assert.ok(!isAlreadyExists(e));
  });

  it('omits empty details fields as upstream (omitempty): no group for the core group', () => {
    const e = notFound({ group: '', resource: 'pods' }, 'p');
    assert.deepEqual(e.status.details, { name: 'p', kind: 'pods' });
    assert.deepEqual(JSON.parse(JSON.stringify(e.status)), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "p" not found',
      reason: 'NotFound',
      details: { name: 'p', kind: 'pods' },
      code: 404,
    });
  });

  it('renders AlreadyExists and Conflict', () => {
    assert.equal(alreadyExists({ group: '', resource: 'pods' }, 'p').message, 'pods "p" already exists');
    const c = conflict({ group: '', resource: 'pods' }, 'p', OPTIMISTIC_LOCK_MESSAGE);
    assert.equal(
      c.message,
      'Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.ok(isConflict(c));
  });

  it('renders Invalid with causes, one error bare and several in brackets', () => {
    const one = invalid('Pod', '', 'p', [{ type: 'FieldValueRequired', field: 'spec.containers' }]);
    assert.equal(one.message, 'Pod "p" is invalid: spec.containers: Required value');
    assert.deepEqual(one.status.details?.causes, [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' },
    ]);
    const two = invalid('Deployment', 'apps', 'd', [
      {
        type: 'FieldValueInvalid',
        field: 'spec.replicas',
        badValue: -1,
        detail: 'must be greater than or equal to 0',
      },
      {
        type: 'FieldValueNotSupported',
        field: 'spec.strategy.type',
        badValue: 'Foo',
        detail: 'supported values: "Recreate", "RollingUpdate"',
      },
    ]);
    assert.equal(
      two.message,
      'Deployment.apps "d" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.strategy.type: Unsupported value: "Foo": supported values: "Recreate", "RollingUpdate"]',
    );
    assert.equal(two.code, 422);
    assert.ok(isInvalid(two));
  });

  it('wraps unknown errors as 500', () => {
    const e = toStatusError(new Error('boom'));
    assert.ok(e instanceof StatusError);
    assert.equal(e.code, 500);
    assert.equal(e.message, 'Internal error occurred: boom');
  });
});
