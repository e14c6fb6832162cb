import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureClusterPKI } from '../pki/cluster-pki.js';
import { generateServiceAccountKey } from './head-start.js';

describe('generateServiceAccountKey', () => {
  it('writes an RSA 2048 pair, private 0600, that ensureClusterPKI then uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-head-start-'));
    try {
      await generateServiceAccountKey(dir);
      const keyFile = join(dir, 'tls', 'service-account.key');
      const key = readFileSync(keyFile, 'utf8');
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const priv = createPrivateKey(key);
      assert.equal(priv.asymmetricKeyType, 'rsa');
      assert.equal(priv.asymmetricKeyDetails?.modulusLength, 2048);
      const pub = createPublicKey(readFileSync(join(dir, 'tls', 'service-account.pub'), 'utf8'));
      assert.equal(
        pub.export({ type: 'spki', format: 'der' }).toString('hex'),
        createPublicKey(priv).export({ type: 'spki', format: 'der' }).toString('hex'),
      );
      assert.equal(ensureClusterPKI(dir).serviceAccountKeyPem, key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a key that is already there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-head-start-'));
    try {
      mkdirSync(join(dir, 'tls'));
      writeFileSync(join(dir, 'tls', 'service-account.key'), 'old key');
      writeFileSync(join(dir, 'tls', 'service-account.pub'), 'old pub');
      await generateServiceAccountKey(dir);
      assert.equal(readFileSync(join(dir, 'tls', 'service-account.key'), 'utf8'), 'old key');
      assert.equal(readFileSync(join(dir, 'tls', 'service-account.pub'), 'utf8'), 'old pub');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
