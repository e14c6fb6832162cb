import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { internalError } from '../machinery/status-error.js';
import { ServiceAccountTokenSource } from './controller-client-builder.js';
import { SERVICEACCOUNTS } from './resources.js';
import { FakeClient } from './testing/fake-client.js';
import { FakeClock } from './testing/fake-clock.js';

// A fake whose TokenRequests return numbered tokens valid for the requested lifetime.
function tokenServer(): { fake: FakeClient; issued: () => number; fail: { on: boolean } } {
  const fake = new FakeClient();
  let n = 0;
  const fail = { on: false };
  fake.prependReactor('create', 'serviceaccounts', (a) => {
    if (a.subresource !== 'token') return undefined;
    if (fail.on) throw internalError('token issuer unavailable');
    n++;
    const spec = (a.object as { spec?: { expirationSeconds?: number } }).spec;
    const exp = new Date(Date.now() + (spec?.expirationSeconds ?? 0) * 1000).toISOString();
    return { handled: true, result: { status: { token: `t${n}`, expirationTimestamp: exp } } };
  });
  return { fake, issued: () => n, fail };
}

describe('ServiceAccountTokenSource', () => {
  it('creates the account, requests a one-hour token and renews it at 80 % of its life', async () => {
    const clock = new FakeClock();
    const { fake, issued } = tokenServer();
    const src = new ServiceAccountTokenSource({
      client: fake,
      namespace: 'kube-system',
      name: 'job-controller',
      clock,
    });
    assert.equal(await src.token(), 't1');
    const sa = await fake.resource(SERVICEACCOUNTS).get('kube-system', 'job-controller');
    assert.equal(sa.metadata?.name, 'job-controller');
    const req = fake.actions().find((a) => a.subresource === 'token');
    assert.equal(
      (req?.object as { spec?: { expirationSeconds?: number } } | undefined)?.spec?.expirationSeconds,
      3600,
    );
    // Concurrent callers share one fresh token; nothing is re-requested before 80 %.
    assert.deepEqual(await Promise.all([src.token(), src.token()]), ['t1', 't1']);
    clock.step(2879_000);
    assert.equal(await src.token(), 't1');
    clock.step(2_000);
    assert.deepEqual(await Promise.all([src.token(), src.token()]), ['t2', 't2']);
    assert.equal(issued(), 2);
    // The account was created once and found afterwards.
    assert.equal(fake.actions().filter((a) => a.verb === 'create' && a.subresource === undefined).length, 1);
  });

  it('keeps a still-valid token when renewal fails, and fails once it has expired', async () => {
    const clock = new FakeClock();
    const { fake, fail } = tokenServer();
    const src = new ServiceAccountTokenSource({ client: fake, namespace: 'kube-system', name: 'x', clock });
    assert.equal(await src.token(), 't1');
    fail.on = true;
    clock.step(3000_000);
    assert.equal(await src.token(), 't1');
    clock.step(700_000);
    await assert.rejects(src.token(), /token issuer unavailable/);
    fail.on = false;
    assert.equal(await src.token(), 't2');
  });
});
