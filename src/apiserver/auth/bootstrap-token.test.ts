import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BootstrapSecret, BootstrapTokenAuthenticator, parseBootstrapToken } from './bootstrap-token.js';
import { parseCSVLine, parseTokenFile, TokenFileAuthenticator } from './token-file.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function secret(data: Record<string, string>, type = 'bootstrap.kubernetes.io/token'): BootstrapSecret {
  return {
    type,
    metadata: { name: 'bootstrap-token-abcdef' },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

const GOOD = {
  'token-id': 'abcdef',
  'token-secret': '0123456789abcdef',
  'usage-bootstrap-authentication': 'true',
  'auth-extra-groups': 'system:bootstrappers:kts:default-node-token',
};
const NOW = new Date('2026-01-01T00:00:00Z');

describe('bootstrap token authenticator', () => {
  const cases: Array<{ name: string; s: BootstrapSecret | undefined; token?: string; ok: boolean }> = [
    { name: 'valid', s: secret(GOOD), ok: true },
    { name: 'wrong secret', s: secret(GOOD), token: 'abcdef.0123456789abcdee', ok: false },
    { name: 'not a token', s: secret(GOOD), token: 'abcdef0123456789abcdef', ok: false },
    { name: 'missing secret', s: undefined, ok: false },
    { name: 'wrong type', s: secret(GOOD, 'Opaque'), ok: false },
    { name: 'no auth usage', s: secret({ ...GOOD, 'usage-bootstrap-authentication': 'false' }), ok: false },
    { name: 'expired', s: secret({ ...GOOD, expiration: '2025-12-31T00:00:00Z' }), ok: false },
    { name: 'not yet expired', s: secret({ ...GOOD, expiration: '2026-02-01T00:00:00Z' }), ok: true },
    { name: 'bad extra group', s: secret({ ...GOOD, 'auth-extra-groups': 'system:masters' }), ok: false },
    { name: 'id mismatch', s: secret({ ...GOOD, 'token-id': 'zzzzzz' }), ok: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = new BootstrapTokenAuthenticator((n) => (n === 'bootstrap-token-abcdef' ? c.s : undefined));
      const u = a.authenticateToken(c.token ?? 'abcdef.0123456789abcdef', NOW);
      if (!c.ok) assert.equal(u, undefined);
      else
        assert.deepEqual(u, {
          username: 'system:bootstrap:abcdef',
          groups: ['system:bootstrappers', 'system:bootstrappers:kts:default-node-token'],
        });
    });
  }
  it('parses tokens', () => {
    assert.deepEqual(parseBootstrapToken('abcdef.0123456789abcdef'), {
      id: 'abcdef',
      secret: '0123456789abcdef',
    });
    assert.equal(parseBootstrapToken('ABCDEF.0123456789abcdef'), undefined);
  });
});

describe('token file', () => {
  it('splits CSV with quoted groups', () => {
    assert.deepEqual(parseCSVLine('t1,alice,u1,"g1,g2"'), ['t1', 'alice', 'u1', 'g1,g2']);
    assert.deepEqual(parseCSVLine('t2, bob, u2'), ['t2', 'bob', 'u2']);
    assert.deepEqual(parseCSVLine('"a""b",c,d'), ['a"b', 'c', 'd']);
  });
  it('authenticates listed tokens', () => {
    const a = TokenFileAuthenticator.fromText('secret1,alice,1001,"dev,ops"\n\nsecret2,bob,1002\n');
    assert.equal(a.size(), 2);
    assert.deepEqual(a.authenticateToken('secret1', NOW), {
      username: 'alice',
      uid: '1001',
      groups: ['dev', 'ops'],
    });
    assert.deepEqual(a.authenticateToken('secret2', NOW), { username: 'bob', uid: '1002', groups: [] });
    assert.equal(a.authenticateToken('nope', NOW), undefined);
  });
  it('rejects short records with upstream message', () => {
    assert.throws(
      () => parseTokenFile('tok,user\n', '/x.csv'),
      /token file '\/x.csv' must have at least 3 columns \(token, user name, user uid\), found 2/,
    );
  });
});
