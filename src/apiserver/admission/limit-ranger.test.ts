import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { StatusError } from '../../machinery/status-error.js';
import { chainOf } from './chain.js';
import { limitRanger } from './limit-ranger.js';
import { AdmissionFixture, namespace, pod } from './testing.js';

describe('LimitRanger', () => {
  const f = new AdmissionFixture();
  const chain = chainOf([limitRanger(f.stores)]);

  before(async () => {
    await f.seed('', 'namespaces', namespace('lr'));
    await f.seed('', 'limitranges', {
      metadata: { name: 'limits', namespace: 'lr' },
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: '500m', memory: '256Mi' },
            defaultRequest: { cpu: '200m', memory: '128Mi' },
            min: { cpu: '100m' },
            max: { cpu: '1', memory: '1Gi' },
            maxLimitRequestRatio: { cpu: '4' },
          },
          { type: 'Pod', max: { memory: '1Gi' } },
          { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '5Gi' } },
        ],
      },
    });
  });
  after(() => f.close());

  it('defaults requests and limits and records what it set', async () => {
    const p = (await f.create(
      chain,
      '',
      'pods',
      pod('a', 'lr', [{ name: 'c', image: 'x', resources: { limits: { memory: '200Mi' } } }]),
    )) as unknown as Pod;
    assert.deepEqual(p.spec?.containers[0]?.resources, {
      limits: { memory: '200Mi', cpu: '500m' },
      // Pod defaulting copied the memory limit into the request before admission, as upstream.
      requests: { memory: '200Mi', cpu: '200m' },
    });
    assert.equal(
      p.metadata?.annotations?.['kubernetes.io/limit-ranger'],
      'LimitRanger plugin set: cpu request for container c; cpu limit for container c',
    );
  });

  const cases: Array<{ name: string; resources: Record<string, unknown>; message: string }> = [
    {
      name: 'min',
      resources: { requests: { cpu: '50m' }, limits: { cpu: '100m' } },
      message: 'pods "min" is forbidden: minimum cpu usage per Container is 100m, but request is 50m',
    },
    {
      name: 'max',
      resources: { requests: { cpu: '500m' }, limits: { cpu: '2' } },
      message: 'pods "max" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    },
    {
      name: 'ratio',
      resources: { requests: { cpu: '100m' }, limits: { cpu: '800m' } },
      message:
        'pods "ratio" is forbidden: cpu max limit to request ratio per Container is 4, but provided ratio is 8.000000',
    },
    {
      name: 'two',
      resources: { requests: { cpu: '50m', memory: '2Gi' }, limits: { cpu: '100m', memory: '2Gi' } },
      message:
        'pods "two" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi, maximum memory usage per Pod is 1Gi, but limit is 2Gi]',
    },
  ];
  for (const c of cases) {
    it(`refuses: ${c.name}`, async () => {
      await assert.rejects(
        f.create(chain, '', 'pods', pod(c.name, 'lr', [{ name: 'c', image: 'x', resources: c.resources }])),
        (e: unknown) => {
          assert.ok(e instanceof StatusError);
          assert.equal(e.code, 403);
          assert.equal(e.status.message, c.message);
          return true;
        },
      );
    });
  }

  it('bounds claim storage', async () => {
    const claim = (name: string, storage: string) => ({
      metadata: { name, namespace: 'lr' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
    });
    await f.create(chain, '', 'persistentvolumeclaims', claim('ok', '2Gi'));
    await assert.rejects(f.create(chain, '', 'persistentvolumeclaims', claim('big', '10Gi')), {
      message:
        'persistentvolumeclaims "big" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi',
    });
  });
});
