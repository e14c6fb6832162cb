// Leader election against a real API server: two candidates, one leads; when the leader
// stops, the other takes over (at once when the lease is released, after expiry otherwise).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { LeaderElector } from '../src/client/leader-election.js';
import { LEASES } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let srv: TestApiServer;
let client: RestClient;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient(loadKubeconfig(srv.server.kubeconfigPath));
});
after(async () => {
  client.close();
  await srv.stop();
});

async function until(cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Candidate {
  id: string;
  elector: LeaderElector;
  ac: AbortController;
  run: Promise<void>;
  leading: boolean;
  stoppedLeading: boolean;
  leaders: string[];
}

function candidate(id: string, name: string, releaseOnCancel: boolean): Candidate {
  const c = {
    id,
    ac: new AbortController(),
    leading: false,
    stoppedLeading: false,
    leaders: [] as string[],
  } as Candidate;
  c.elector = new LeaderElector({
    client,
    namespace: 'kube-system',
    name,
    identity: id,
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 200,
    releaseOnCancel,
    callbacks: {
      onStartedLeading: (signal) => {
        c.leading = true;
        signal.addEventListener('abort', () => {
          c.leading = false;
        });
      },
      onStoppedLeading: () => {
        c.stoppedLeading = true;
      },
      onNewLeader: (l) => c.leaders.push(l),
    },
  });
  c.run = c.elector.run(c.ac.signal);
  return c;
}

describe('leader election', () => {
  it('one leader at a time; release hands over at once', async () => {
    const a = candidate('a', 'ctrl-release', true);
    await until(() => a.leading);
    const b = candidate('b', 'ctrl-release', true);
    await until(() => b.leaders.includes('a'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.leading, false, 'b must not lead while a renews');
    const lease = await client.resource(LEASES).get('kube-system', 'ctrl-release');
    assert.equal(lease.spec?.holderIdentity, 'a');
    assert.equal(lease.spec?.leaseDurationSeconds, 2);
    assert.match(lease.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const t0 = Date.now();
    a.ac.abort();
    await a.run;
    assert.equal(a.leading, false);
    assert.equal(a.stoppedLeading, true);
    await until(() => b.leading);
    assert.ok(Date.now() - t0 < 1500, 'released lease is taken without waiting for expiry');
    const after = await client.resource(LEASES).get('kube-system', 'ctrl-release');
    assert.equal(after.spec?.holderIdentity, 'b');
    assert.equal(after.spec?.leaseTransitions, 1, 'one change of holder: a → b');
    b.ac.abort();
    await b.run;
  });

  it('without release the other candidate takes over after the lease expires', async () => {
    const a = candidate('a', 'ctrl-expire', false);
    await until(() => a.leading);
    const b = candidate('b', 'ctrl-expire', false);
    await until(() => b.leaders.includes('a'));
    const t0 = Date.now();
    a.ac.abort();
    await a.run;
    await until(() => b.leading);
    assert.ok(Date.now() - t0 >= 1000, 'waited for the lease to expire');
    const lease = await client.resource(LEASES).get('kube-system', 'ctrl-expire');
    assert.equal(lease.spec?.holderIdentity, 'b');
    assert.equal(lease.spec?.leaseTransitions, 1);
    b.ac.abort();
    await b.run;
  });
});
