import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type { CertificateSigningRequest } from '../../api/generated/types/certificates-v1.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { createKeyPair, generateKey } from '../../pki/x509.js';
import { approvingHandler, shouldClean, signingHandler } from './handlers.js';
import { createCertificateRequest, parseCertificateRequest } from './pkcs10.js';
import { CSRS, certDurationMs, checkForSigner, Signers } from './signer.js';

const CA = createKeyPair({
  subject: { commonName: 'test-ca' },
  notAfter: new Date(Date.now() + 3650 * 86_400_000),
  isCA: true,
});

function csr(
  name: string,
  signerName: string,
  subject: { commonName: string; organizations?: string[]; sans?: string[] },
  usages: string[],
  extra: Partial<CertificateSigningRequest> = {},
): CertificateSigningRequest {
  const pem = createCertificateRequest(subject, generateKey());
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name, creationTimestamp: new Date().toISOString() },
    spec: {
      request: Buffer.from(pem).toString('base64'),
      signerName,
      usages,
      username: 'system:bootstrap:abcdef',
    },
    ...extra,
  };
}

const approved = {
  status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: '' }] },
};

describe('pkcs10', () => {
  it('round-trips subject and SANs and checks the signature', () => {
    const pem = createCertificateRequest(
      {
        commonName: 'system:node:n1',
        organizations: ['system:nodes'],
        sans: ['n1.example', '10.0.0.1', '::1'],
      },
      generateKey(),
    );
    const r = parseCertificateRequest(pem);
    assert.equal(r.commonName, 'system:node:n1');
    assert.deepEqual(r.organizations, ['system:nodes']);
    assert.deepEqual(r.dnsNames, ['n1.example']);
    assert.deepEqual(r.ipAddresses, ['10.0.0.1', '::1']);
  });
  it('rejects a tampered request', () => {
    const pem = createCertificateRequest({ commonName: 'alice' }, generateKey());
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff;
    assert.throws(() => parseCertificateRequest(der));
  });
});

describe('signer validation', () => {
  const node = parseCertificateRequest(
    createCertificateRequest(
      { commonName: 'system:node:n1', organizations: ['system:nodes'] },
      generateKey(),
    ),
  );
  const user = parseCertificateRequest(createCertificateRequest({ commonName: 'alice' }, generateKey()));
  const cases: Array<[string, string, typeof node, string[], string | undefined | false]> = [
    [
      'kubelet client ok',
      Signers.kubeAPIServerClientKubelet,
      node,
      ['digital signature', 'client auth'],
      undefined,
    ],
    [
      'kubelet client bad O',
      Signers.kubeAPIServerClientKubelet,
      user,
      ['client auth'],
      'subject organization is not system:nodes',
    ],
    [
      'kubelet client bad usages',
      Signers.kubeAPIServerClientKubelet,
      node,
      ['client auth'],
      'usages did not match [client auth digital signature key encipherment]',
    ],
    ['apiserver client ok', Signers.kubeAPIServerClient, user, ['client auth'], undefined],
    [
      'apiserver client server auth',
      Signers.kubeAPIServerClient,
      user,
      ['server auth'],
      'invalid usage for client certificate: server auth',
    ],
    [
      'apiserver client none',
      Signers.kubeAPIServerClient,
      user,
      [],
      'missing required usage for client certificate: client auth',
    ],
    [
      'serving needs SAN',
      Signers.kubeletServing,
      node,
      ['digital signature', 'server auth'],
      'DNS or IP subjectAltName is required',
    ],
    ['legacy', Signers.legacyUnknown, user, ['anything'], undefined],
    ['other signer', 'example.com/x', user, [], false],
  ];
  for (const [name, signer, req, usages, want] of cases) {
    it(name, () => {
      const r = checkForSigner(signer, req, usages);
      if (want === false) assert.equal(r.recognized, false);
      else assert.deepEqual(r, want === undefined ? { recognized: true } : { recognized: true, error: want });
    });
  }
  it('duration honours expirationSeconds within [600 s, 1 y]', () => {
    assert.equal(certDurationMs(undefined), 365 * 86_400_000);
    assert.equal(certDurationMs(60), 600_000);
    assert.equal(certDurationMs(3600), 3_600_000);
    assert.equal(certDurationMs(10 * 365 * 86400), 365 * 86_400_000);
  });
});

describe('csrsigning', () => {
  it('signs an approved client CSR with the requested lifetime', async () => {
    const client = new FakeClient();
    const clock = new FakeClock(Date.now());
    const c = csr(
      'u1',
      Signers.kubeAPIServerClient,
      { commonName: 'alice', organizations: ['dev'] },
      ['client auth'],
      {
        ...approved,
      },
    );
    c.spec!.expirationSeconds = 3600;
    await client.resource(CSRS).create('', c);
    await signingHandler(CA, clock)(structuredClone(c), client);
    const got = await client.resource(CSRS).get('', 'u1');
    const cert = new X509Certificate(Buffer.from(got.status?.certificate ?? '', 'base64'));
    assert.match(cert.subject, /CN=alice/);
    assert.match(cert.subject, /O=dev/);
    assert.ok(cert.checkIssued(new X509Certificate(CA.certPem)));
    const life = new Date(cert.validTo).getTime() - clock.now();
    assert.ok(Math.abs(life - 3_600_000) < 2000, `lifetime ${life}`);
  });
  it('marks an invalid request Failed and leaves pending ones alone', async () => {
    const client = new FakeClient();
    const clock = new FakeClock(Date.now());
    const bad = csr('b1', Signers.kubeAPIServerClient, { commonName: 'alice' }, ['server auth'], {
      ...approved,
    });
    const pending = csr('p1', Signers.kubeAPIServerClient, { commonName: 'bob' }, ['client auth']);
    await client.resource(CSRS).create('', bad);
    await client.resource(CSRS).create('', pending);
    await signingHandler(CA, clock)(structuredClone(bad), client);
    await signingHandler(CA, clock)(structuredClone(pending), client);
    const b = await client.resource(CSRS).get('', 'b1');
    const failed = b.status?.conditions?.find((x) => x.type === 'Failed');
    assert.equal(failed?.reason, 'SignerValidationFailure');
    assert.equal(failed?.message, 'invalid usage for client certificate: server auth');
    assert.equal((await client.resource(CSRS).get('', 'p1')).status?.certificate, undefined);
  });
});

describe('csrapproving', () => {
  for (const [name, username, allowedSub, want] of [
    [
      'bootstrap nodeclient',
      'system:bootstrap:abcdef',
      'nodeclient',
      'Auto approving kubelet client certificate after SubjectAccessReview.',
    ],
    [
      'renewal selfnodeclient',
      'system:node:n1',
      'selfnodeclient',
      'Auto approving self kubelet client certificate after SubjectAccessReview.',
    ],
    ['denied by SAR', 'system:bootstrap:abcdef', 'none', undefined],
  ] as const) {
    it(name, async () => {
      const client = new FakeClient();
      const asked: string[] = [];
      client.prependReactor('create', 'subjectaccessreviews', (a) => {
        const sar = a.object as { spec: { resourceAttributes: { subresource: string } } };
        asked.push(sar.spec.resourceAttributes.subresource);
        return {
          handled: true,
          result: { ...sar, status: { allowed: sar.spec.resourceAttributes.subresource === allowedSub } },
        };
      });
      const c = csr(
        'n1',
        Signers.kubeAPIServerClientKubelet,
        { commonName: 'system:node:n1', organizations: ['system:nodes'] },
        ['digital signature', 'client auth'],
      );
      c.spec!.username = username;
      await client.resource(CSRS).create('', c);
      const run = approvingHandler(new FakeClock(Date.now()))(structuredClone(c), client);
      if (want === undefined) await assert.rejects(run, /subject access review was not approved/);
      else await run;
      const got = await client.resource(CSRS).get('', 'n1');
      const cond = got.status?.conditions?.find((x) => x.type === 'Approved');
      assert.equal(cond?.message, want);
      if (want !== undefined) assert.equal(cond?.reason, 'AutoApproved');
    });
  }
  it('ignores user CSRs', async () => {
    const client = new FakeClient();
    const c = csr('u', Signers.kubeAPIServerClient, { commonName: 'alice' }, ['client auth']);
    await client.resource(CSRS).create('', c);
    await approvingHandler(new FakeClock(Date.now()))(structuredClone(c), client);
    assert.equal(client.actions().filter((a) => a.resource.resource === 'subjectaccessreviews').length, 0);
  });
});

describe('csrcleaner', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  const at = (ms: number): string => new Date(now - ms).toISOString();
  const base = (
    conds: Array<{ type: string; ago: number }>,
    createdAgo: number,
    cert = '',
  ): CertificateSigningRequest => ({
    metadata: { name: 'x', creationTimestamp: at(createdAgo) },
    spec: { request: '', signerName: Signers.kubeAPIServerClient },
    status: {
      ...(cert !== '' ? { certificate: cert } : {}),
      conditions: conds.map((c) => ({ type: c.type, status: 'True', lastUpdateTime: at(c.ago) })),
    },
  });
  const cases: Array<[string, CertificateSigningRequest, boolean]> = [
    ['fresh pending', base([], 3_600_000), false],
    ['old pending', base([], 25 * 3_600_000), true],
    ['recently denied', base([{ type: 'Denied', ago: 60_000 }], 60_000), false],
    ['denied an hour ago', base([{ type: 'Denied', ago: 3_700_000 }], 3_700_000), true],
    ['failed an hour ago', base([{ type: 'Failed', ago: 3_700_000 }], 3_700_000), true],
    ['approved, not issued, old', base([{ type: 'Approved', ago: 3_700_000 }], 3_700_000), false],
    [
      'approved and issued an hour ago',
      base([{ type: 'Approved', ago: 3_700_000 }], 3_700_000, Buffer.from(CA.certPem).toString('base64')),
      true,
    ],
  ];
  for (const [name, c, want] of cases) it(name, () => assert.equal(shouldClean(c, now), want));
});
