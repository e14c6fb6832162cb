import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createKeyPair } from './x509.js';

describe('x509', () => {
  const year = new Date(Date.now() + 365 * 86400_000);

  it('creates a self-signed CA that Node parses and verifies', () => {
    const ca = createKeyPair({ subject: { commonName: 'kts-ca' }, notAfter: year, isCA: true });
    const c = new X509Certificate(ca.certPem);
    assert.equal(c.subject, 'CN=kts-ca');
    assert.equal(c.ca, true);
    assert.ok(c.verify(c.publicKey));
    assert.ok(c.checkIssued(c));
  });

  it('issues a serving cert with SANs and a client cert with groups', () => {
    const ca = createKeyPair({ subject: { commonName: 'kts-ca' }, notAfter: year, isCA: true });
    const caCert = new X509Certificate(ca.certPem);
    const serving = createKeyPair(
      {
        subject: { commonName: 'kube-apiserver' },
        notAfter: year,
        usages: ['serverAuth'],
        sans: ['localhost', '127.0.0.1', '::1', '10.43.0.1', 'kubernetes.default.svc'],
      },
      ca,
    );
    const s = new X509Certificate(serving.certPem);
    assert.equal(s.ca, false);
    assert.ok(s.verify(caCert.publicKey));
    assert.ok(s.checkIssued(caCert));
    assert.equal(
      s.subjectAltName,
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.43.0.1, DNS:kubernetes.default.svc',
    );
    assert.ok(s.checkHost('localhost'));
    assert.ok(s.checkIP('127.0.0.1'));
    const admin = createKeyPair(
      {
        subject: { commonName: 'admin', organizations: ['system:masters'] },
        notAfter: year,
        usages: ['clientAuth'],
      },
      ca,
    );
    const a = new X509Certificate(admin.certPem);
    assert.equal(a.subject, 'O=system:masters\nCN=admin');
    assert.deepEqual(a.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  });
});
