import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from '../client/testing/fake-clock.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { createKeyPair, generateKey, type KeyPair } from '../pki/x509.js';
import {
  digestedCSRName,
  kubeletKubeconfigPath,
  loadNodeCredentials,
  renewalDeadline,
  sleepUntil,
} from './tls-bootstrap.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);

function ca(name: string): KeyPair {
  return createKeyPair({
    subject: { commonName: name },
    notBefore: new Date(NOW - DAY),
    notAfter: new Date(NOW + 3650 * DAY),
    isCA: true,
  });
}

function nodeCert(issuer: KeyPair, cn: string, notAfter: number): KeyPair {
  return createKeyPair(
    {
      subject: { commonName: cn, organizations: ['system:nodes'] },
      notBefore: new Date(NOW - DAY),
      notAfter: new Date(notAfter),
      usages: ['clientAuth'],
    },
    issuer,
  );
}

describe('loadNodeCredentials', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const cluster = ca('cluster-ca');
  const other = ca('other-ca');

  const cases: Array<{ name: string; write?: () => KeyPair | string; ok: boolean }> = [
    { name: 'no kubeconfig yet', ok: false },
    {
      name: 'a valid certificate of the node',
      write: () => nodeCert(cluster, 'system:node:n1', NOW + 365 * DAY),
      ok: true,
    },
    { name: 'another node', write: () => nodeCert(cluster, 'system:node:n2', NOW + 365 * DAY), ok: false },
    { name: 'another CA', write: () => nodeCert(other, 'system:node:n1', NOW + 365 * DAY), ok: false },
    { name: 'expired', write: () => nodeCert(cluster, 'system:node:n1', NOW - 1000), ok: false },
    { name: 'garbage', write: () => 'not: [a kubeconfig', ok: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const dir = mkdtempSync(join(tmpdir(), 'kts-tls-bootstrap-'));
      dirs.push(dir);
      const content = c.write?.();
      if (typeof content === 'string') writeFileSync(kubeletKubeconfigPath(dir), content);
      else if (content !== undefined)
        writeKubeconfig(kubeletKubeconfigPath(dir), {
          server: 'https://192.0.2.1:6443',
          caPem: cluster.certPem,
          clientCertPem: content.certPem,
          clientKeyPem: content.keyPem,
          userName: 'system:node:n1',
        });
      const got = loadNodeCredentials(dir, 'n1', cluster.certPem, NOW);
      assert.equal(got !== undefined, c.ok);
      if (got !== undefined && typeof content === 'object') {
        assert.equal(got.certPem, content.certPem);
        assert.equal(got.keyPem, content.keyPem);
        assert.equal(got.notAfter, Math.floor((NOW + 365 * DAY) / 1000) * 1000);
      }
    });
  }
});

describe('renewalDeadline', () => {
  it('falls 70–90% into the lifetime (upstream jitter)', () => {
    for (const [rand, want] of [
      [0, 700],
      [0.5, 800],
      [1, 900],
    ] as const)
      assert.equal(
        renewalDeadline(1000, 2000, () => rand),
        1000 + want,
      );
  });
});

describe('sleepUntil', () => {
  it('waits months in steps of at most an hour (node timers overflow past ~24.8 days)', async () => {
    const clock = new FakeClock(NOW);
    const asked: number[] = [];
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      asked.push(ms);
      return setTimeout(fn, ms);
    };
    const at = NOW + 255 * DAY;
    let done = false;
    const p = sleepUntil(clock, at, new AbortController().signal).then(() => {
      done = true;
    });
    while (!done && clock.now() < at + DAY) await clock.advance(DAY);
    await p;
    assert.equal(done, true);
    assert.ok(clock.now() >= at);
    assert.ok(Math.max(...asked) <= 3_600_000, `longest wait ${Math.max(...asked)} ms`);
  });

  it('returns when the signal aborts', async () => {
    const clock = new FakeClock(NOW);
    const ac = new AbortController();
    const p = sleepUntil(clock, NOW + DAY, ac.signal);
    await flushMicrotasks();
    ac.abort();
    await p;
    assert.ok(clock.now() < NOW + DAY);
  });
});

describe('digestedCSRName', () => {
  it('names a bootstrap CSR after its key, subject and usages, as the kubelet does', () => {
    const a = generateKey();
    const b = generateKey();
    const name = (k: KeyObject, cn = 'system:node:n1', orgs = ['system:nodes']) =>
      digestedCSRName(k, cn, orgs, ['digital signature', 'client auth']);
    // SHA-512/256 is 32 bytes: 43 base64url characters without padding.
    assert.match(name(a), /^node-csr-[A-Za-z0-9_-]{43}$/);
    assert.equal(name(a), name(a));
    assert.notEqual(name(a), name(b));
    assert.notEqual(name(a), name(a, 'system:node:n2'));
    // The `|` after each part keeps "ab" + "c" apart from "a" + "bc".
    assert.notEqual(name(a, 'ab', ['c']), name(a, 'a', ['bc']));
  });
});
