import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureClusterPKI } from '../pki/cluster-pki.js';
import { MemoryStorage } from '../storage/memory.js';
import {
  BootstrapTokenError,
  bootstrapKey,
  decryptBootstrap,
  encryptBootstrap,
  isExternalDatastore,
  parseServerToken,
  reconcileBootstrapData,
} from './bootstrap-data.js';
import { caCertHash } from './join-token.js';

describe('parseServerToken', () => {
  const hash = 'a'.repeat(64);
  const cases: [string, { passphrase: string; caHash?: string }][] = [
    ['secret', { passphrase: 'secret' }],
    [`K10${hash}::server:pw`, { passphrase: 'pw', caHash: hash }],
    [`K10${hash}::server:p:w`, { passphrase: 'p:w', caHash: hash }],
    [`K10${hash}::abcdef.0123456789abcdef`, { passphrase: 'abcdef.0123456789abcdef', caHash: hash }],
    ['K10short::server:pw', { passphrase: 'K10short::server:pw' }],
  ];
  for (const [token, want] of cases) it(token, () => assert.deepEqual(parseServerToken(token), want));
});

describe('bootstrap encryption', () => {
  it('round-trips and refuses another passphrase', () => {
    const sealed = encryptBootstrap('right', Buffer.from('{"ca.crt":"x"}'));
    assert.ok(!Buffer.from(sealed).toString().includes('ca.crt'));
    assert.equal(decryptBootstrap('right', sealed).toString(), '{"ca.crt":"x"}');
    assert.throws(() => decryptBootstrap('wrong', sealed), BootstrapTokenError);
    assert.throws(() => decryptBootstrap('right', Buffer.from('junk')), BootstrapTokenError);
  });
  it('keys the datastore by a short hash of the passphrase', () => {
    assert.match(bootstrapKey('x'), /^\/bootstrap\/[0-9a-f]{12}$/);
  });
  it('knows which datastores are shared', () => {
    assert.equal(isExternalDatastore('etcd://a:1'), true);
    assert.equal(isExternalDatastore('https://a:1'), true);
    assert.equal(isExternalDatastore('sqlite:///x.db'), false);
    assert.equal(isExternalDatastore('memory://'), false);
    assert.equal(isExternalDatastore(undefined), false);
  });
});

describe('reconcileBootstrapData', () => {
  const root = mkdtempSync(join(tmpdir(), 'kts-bootstrap-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const storage = new MemoryStorage();
  const read = (dir: string, f: string): string => readFileSync(join(dir, 'tls', f), 'utf8');

  it('stores the first server PKI and loads it into the next, reissuing its leaves', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    assert.equal(await reconcileBootstrapData(storage, a, 'tok'), 'stored');
    ensureClusterPKI(b); // b had a PKI of its own: it must be replaced
    const oldServing = read(b, 'serving.crt');
    assert.equal(await reconcileBootstrapData(storage, b, 'tok'), 'loaded');
    for (const f of ['ca.crt', 'ca.key', 'service-account.key', 'service-account.pub'])
      assert.equal(read(b, f), read(a, f), f);
    const pki = ensureClusterPKI(b);
    assert.notEqual(pki.serving.certPem, oldServing);
    assert.equal(await reconcileBootstrapData(storage, a, 'tok'), 'loaded');
  });

  it('refuses another token on a datastore that has bootstrap data', async () => {
    await assert.rejects(reconcileBootstrapData(storage, join(root, 'c'), 'other'), {
      name: 'BootstrapTokenError',
      message: 'bootstrap data already found and encrypted with different token',
    });
  });

  it('checks the CA hash a full token pins', async () => {
    const ca = read(join(root, 'a'), 'ca.crt');
    const good = `K10${caCertHash(ca)}::server:tok`;
    assert.equal(await reconcileBootstrapData(storage, join(root, 'd'), good), 'loaded');
    await assert.rejects(
      reconcileBootstrapData(storage, join(root, 'e'), `K10${'0'.repeat(64)}::server:tok`),
      {
        name: 'BootstrapTokenError',
      },
    );
  });
});
