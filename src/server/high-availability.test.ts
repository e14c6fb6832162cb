import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noopLogger } from '../client/log.js';
import { caCertHash } from './join-token.js';
import { prepareSharedPKI, resolveToken, runCandidate, tokenPath } from './high-availability.js';

describe('resolveToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-ha-token-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('prefers the flag, then DATA_DIR/token, else nothing', () => {
    assert.equal(resolveToken(dir, undefined), undefined);
    writeFileSync(tokenPath(dir), 'K10abc::saved.0123456789abcdef\n');
    assert.equal(resolveToken(dir, undefined), 'K10abc::saved.0123456789abcdef');
    assert.equal(resolveToken(dir, ' flag.0123456789abcdef '), 'flag.0123456789abcdef');
    assert.equal(resolveToken(dir, ''), 'K10abc::saved.0123456789abcdef');
  });
});

describe('prepareSharedPKI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-ha-pki-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('generates a join-token-shaped token and saves its full form', async () => {
    const r = await prepareSharedPKI(dir, 'memory://', undefined);
    assert.equal(r.outcome, 'stored');
    const ca = readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8');
    assert.match(r.token, new RegExp(`^K10${caCertHash(ca)}::[a-z0-9]{6}\\.[a-z0-9]{16}$`));
    assert.equal(readFileSync(tokenPath(dir), 'utf8'), `${r.token}\n`);
  });
});

describe('runCandidate', () => {
  it('campaigns again after each term until aborted', async () => {
    const ac = new AbortController();
    let terms = 0;
    await runCandidate(
      'test',
      async () => {
        terms++;
        if (terms === 2) throw new Error('boom');
        if (terms === 3) ac.abort();
      },
      { signal: ac.signal, retryMs: 1, log: noopLogger },
    );
    assert.equal(terms, 3);
  });
});
