import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StatusError } from '../../machinery/status-error.js';
import { chainOf } from './chain.js';
import { resourceQuotaAdmission } from './resource-quota.js';
import { AdmissionFixture, namespace, pod } from './testing.js';

function forbidden(message: string) {
  return (e: unknown) => {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.code, 403);
    assert.equal(e.status.message, message);
    return true;
  };
}

describe('ResourceQuota admission', () => {
  const f = new AdmissionFixture();
  const chain = chainOf([resourceQuotaAdmission(f.stores)]);
  const withCpu = (name: string, cpu: string) =>
    pod(name, 'q', [
      {
        name: 'c',
        image: 'x',
        resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } },
      },
    ]);

  before(async () => {
    await f.seed('', 'namespaces', namespace('q'));
    await f.seed('', 'resourcequotas', {
      metadata: { name: 'q1', namespace: 'q' },
      spec: { hard: { pods: '2', 'requests.cpu': '1', 'count/configmaps': '1' } },
    });
  });
  after(() => f.close());

  it('counts objects and refuses the one over quota', async () => {
    await f.create(chain, '', 'configmaps', { metadata: { name: 'a', namespace: 'q' } });
    await assert.rejects(
      f.create(chain, '', 'configmaps', { metadata: { name: 'b', namespace: 'q' } }),
      forbidden(
        'configmaps "b" is forbidden: exceeded quota: q1, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1',
      ),
    );
  });

  it('requires requests for tracked compute resources', async () => {
    await assert.rejects(
      f.create(chain, '', 'pods', pod('bare', 'q')),
      forbidden('pods "bare" is forbidden: failed quota: q1: must specify requests.cpu for: c'),
    );
  });

  it('sums compute requests and reserves concurrent creates', async () => {
    await f.create(chain, '', 'pods', withCpu('p1', '600m'));
    await assert.rejects(
      f.create(chain, '', 'pods', withCpu('p2', '500m')),
      forbidden(
        'pods "p2" is forbidden: exceeded quota: q1, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
      ),
    );
    // Two racing creates: only one fits in the remaining pod slot.
    const results = await Promise.allSettled([
      f.create(chain, '', 'pods', withCpu('r1', '100m')),
      f.create(chain, '', 'pods', withCpu('r2', '100m')),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.match(
      (rejected.reason as Error).message,
      /exceeded quota: q1, requested: pods=1, used: pods=2, limited: pods=2$/,
    );
  });

  it('frees usage when an object goes away', async () => {
    await f.stores
      .byName('', 'pods')
      .delete(
        'q',
        'p1',
        { gracePeriodSeconds: 0 },
        { dryRun: false, fieldManager: 't', subresource: '', warnings: [] },
      );
    await f.create(chain, '', 'pods', withCpu('p3', '500m'));
  });
});
