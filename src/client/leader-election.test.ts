import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { internalError } from '../machinery/status-error.js';
import { LeaderElector } from './leader-election.js';
import { LEASES } from './resources.js';
import { FakeClient } from './testing/fake-client.js';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('LeaderElector', () => {
  it('validates timing like upstream', () => {
    const base = {
      client: new FakeClient(),
      namespace: 'ns',
      name: 'l',
      identity: 'me',
      callbacks: { onStartedLeading() {}, onStoppedLeading() {} },
    };
    assert.throws(
      () => new LeaderElector({ ...base, leaseDurationMs: 10_000 }),
      /leaseDuration must be greater than renewDeadline/,
    );
    assert.throws(
      () => new LeaderElector({ ...base, retryPeriodMs: 9_000 }),
      /renewDeadline must be greater than retryPeriod\*JitterFactor/,
    );
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
  });

  it('creates the lease, renews it, and stops leading when renewal keeps failing', async () => {
    const fake = new FakeClient();
    const events: string[] = [];
    let leadingSignal: AbortSignal | undefined;
    const e = new LeaderElector({
      client: fake,
      namespace: 'ns',
      name: 'l',
      identity: 'me',
      leaseDurationMs: 400,
      renewDeadlineMs: 200,
      retryPeriodMs: 40,
      callbacks: {
        onStartedLeading: (s) => {
          leadingSignal = s;
          events.push('started');
        },
        onStoppedLeading: () => events.push('stopped'),
        onNewLeader: (id) => events.push(`leader ${id}`),
      },
    });
    const ac = new AbortController();
    const run = e.run(ac.signal);
    await until(() => events.includes('started'));
    const lease = await fake.resource(LEASES).get('ns', 'l');
    assert.equal(lease.spec?.holderIdentity, 'me');
    assert.equal(lease.spec?.leaseTransitions, 0);
    assert.match(lease.spec?.acquireTime ?? '', /\.\d{6}Z$/);
    await until(() => fake.actions().filter((a) => a.verb === 'update').length >= 2);
    fake.prependReactor('update', 'leases', () => {
      throw internalError('etcd is down');
    });
    await run;
    assert.equal(leadingSignal?.aborted, true);
    assert.deepEqual(events, ['leader me', 'started', 'stopped']);
  });

  it('releases from a fresh read even when its observed record is stale', async () => {
    const fake = new FakeClient();
    let started = false;
    const e = new LeaderElector({
      client: fake,
      namespace: 'ns',
      name: 'l',
      identity: 'me',
      leaseDurationMs: 60_000,
      renewDeadlineMs: 30_000,
      retryPeriodMs: 10_000,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: () => {
          started = true;
        },
        onStoppedLeading: () => {},
      },
    });
    const ac = new AbortController();
    const run = e.run(ac.signal);
    await until(() => started);
    // Another write (as a renewal cut off by the abort would be) moves the resourceVersion.
    const leases = fake.resource(LEASES);
    const cur = await leases.get('ns', 'l');
    await leases.update('ns', { ...cur, metadata: { ...cur.metadata, labels: { touched: 'yes' } } });
    ac.abort();
    await run;
    const after = await leases.get('ns', 'l');
    assert.equal(after.spec?.holderIdentity, '');
    assert.equal(after.spec?.leaseDurationSeconds, 1);
    assert.equal(after.metadata?.labels?.touched, 'yes');
  });
});
