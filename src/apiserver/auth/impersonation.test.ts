import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isForbidden, isInternalError, StatusError } from '../../machinery/status-error.js';
import type { AuthzAttributes, Decision } from '../endpoints/reviews.js';
import type { UserInfo } from '../endpoints/scope.js';
import { impersonate, impersonationHeaders, wantsImpersonation } from './impersonation.js';

const ADMIN: UserInfo = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const DEV: UserInfo = { username: 'dev', groups: ['system:authenticated'] };

// An authorizer that allows exactly the listed "resource/name" impersonations and records asks.
function authorizerAllowing(...allowed: string[]) {
  const asked: AuthzAttributes[] = [];
  return {
    asked,
    authorize(a: AuthzAttributes): Decision {
      asked.push(a);
      const key = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}/${a.name}`;
      return { allowed: a.verb === 'impersonate' && allowed.includes(key), reason: '' };
    },
  };
}

describe('impersonationHeaders', () => {
  it('keeps repeated groups apart and unescapes extra keys', () => {
    const h = impersonationHeaders([
      'Impersonate-User',
      'jane',
      'impersonate-group',
      'a, b',
      'Impersonate-Group',
      'c',
      'Impersonate-Extra-Scopes%2Fx',
      'v1',
      'Impersonate-Uid',
      'u-1',
      'Authorization',
      'Bearer t',
    ]);
    assert.deepEqual(h, { user: 'jane', uid: 'u-1', groups: ['a, b', 'c'], extra: [['scopes/x', 'v1']] });
    assert.equal(wantsImpersonation(h), true);
    assert.equal(wantsImpersonation(impersonationHeaders(['Accept', 'x'])), false);
  });
});

describe('impersonate', () => {
  const cases: Array<{ name: string; raw: string[]; want: UserInfo }> = [
    {
      name: 'a user gets system:authenticated',
      raw: ['Impersonate-User', 'jane'],
      want: { username: 'jane', groups: ['system:authenticated'] },
    },
    {
      name: 'named groups come first, then system:authenticated',
      raw: ['Impersonate-User', 'jane', 'Impersonate-Group', 'devs'],
      want: { username: 'jane', groups: ['devs', 'system:authenticated'] },
    },
    {
      name: 'a service account gets its fixed groups',
      raw: ['Impersonate-User', 'system:serviceaccount:ns1:sa'],
      want: {
        username: 'system:serviceaccount:ns1:sa',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
      },
    },
    {
      name: 'a service account with named groups gets only those',
      raw: ['Impersonate-User', 'system:serviceaccount:ns1:sa', 'Impersonate-Group', 'g'],
      want: { username: 'system:serviceaccount:ns1:sa', groups: ['g', 'system:authenticated'] },
    },
    {
      name: 'anonymous gets system:unauthenticated',
      raw: ['Impersonate-User', 'system:anonymous'],
      want: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    },
    {
      name: 'system:unauthenticated named explicitly is not joined by system:authenticated',
      raw: ['Impersonate-User', 'x', 'Impersonate-Group', 'system:unauthenticated'],
      want: { username: 'x', groups: ['system:unauthenticated'] },
    },
    {
      name: 'extras and uid',
      raw: [
        'Impersonate-User',
        'x',
        'Impersonate-Extra-Scope',
        'a',
        'Impersonate-Extra-scope',
        'b',
        'Impersonate-Uid',
        'u',
      ],
      want: { username: 'x', uid: 'u', groups: ['system:authenticated'], extra: { scope: ['a', 'b'] } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(impersonate(ADMIN, impersonationHeaders(c.raw), authorizerAllowing()), c.want);
    });
  }

  it('returns the requestor itself without impersonation headers', () => {
    assert.equal(impersonate(DEV, impersonationHeaders([]), authorizerAllowing()), DEV);
  });

  it('asks the authorizer about each part as upstream names it', () => {
    const authz = authorizerAllowing('serviceaccounts/sa', 'groups/g', 'userextras/scope/a', 'uids/u');
    const raw = [
      'Impersonate-User',
      'system:serviceaccount:ns1:sa',
      'Impersonate-Group',
      'g',
      'Impersonate-Extra-Scope',
      'a',
      'Impersonate-Uid',
      'u',
    ];
    impersonate(DEV, impersonationHeaders(raw), authz);
    assert.deepEqual(
      authz.asked.map((a) => [a.apiGroup, a.resource, a.subresource, a.namespace, a.name]),
      [
        ['', 'serviceaccounts', '', 'ns1', 'sa'],
        ['', 'groups', '', '', 'g'],
        ['authentication.k8s.io', 'userextras', 'scope', '', 'a'],
        ['authentication.k8s.io', 'uids', '', '', 'u'],
      ],
    );
  });

  it('refuses with upstream messages', () => {
    const table: Array<{ raw: string[]; message: string }> = [
      {
        raw: ['Impersonate-User', 'jane'],
        message:
          'users "jane" is forbidden: User "dev" cannot impersonate resource "users" in API group "" at the cluster scope',
      },
      {
        raw: ['Impersonate-User', 'system:serviceaccount:ns1:sa'],
        message:
          'serviceaccounts "sa" is forbidden: User "dev" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns1"',
      },
    ];
    for (const t of table) {
      assert.throws(
        () => impersonate(DEV, impersonationHeaders(t.raw), authorizerAllowing()),
        (e: unknown) => isForbidden(e) && e instanceof StatusError && e.status.message === t.message,
      );
    }
    // A group allowed but not the user: the user is asked first and refused.
    assert.throws(
      () =>
        impersonate(
          DEV,
          impersonationHeaders(['Impersonate-User', 'jane', 'Impersonate-Group', 'g']),
          authorizerAllowing('groups/g'),
        ),
      isForbidden,
    );
  });

  it('refuses groups without a user as a server error, as upstream', () => {
    assert.throws(
      () => impersonate(ADMIN, impersonationHeaders(['Impersonate-Group', 'g']), authorizerAllowing()),
      (e: unknown) => isInternalError(e) && e instanceof StatusError && e.code === 500,
    );
  });
});
