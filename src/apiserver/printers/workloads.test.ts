import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../registry/object.js';
import { buildTable } from './table.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();
const meta = (name: string, seconds = 3 * 3600 + 20 * 60) => ({
  name,
  namespace: 'default',
  creationTimestamp: ago(seconds),
});
const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1.27' },
      { name: 'log', image: 'busybox' },
    ],
  },
};

function row(group: string, plural: string, obj: KObject): unknown[] {
  return buildTable(group, plural, [obj], { includeObject: 'None', now: NOW }).rows[0]?.cells ?? [];
}

function columns(group: string, plural: string): string[] {
  return (buildTable(group, plural, [], { includeObject: 'None', now: NOW }).columnDefinitions ?? []).map(
    (c) => `${c.name}${c.priority ? '*' : ''}:${c.type}`,
  );
}

describe('workload printers', () => {
  it('deployments', () => {
    assert.deepEqual(columns('apps', 'deployments'), [
      'Name:string',
      'Ready:string',
      'Up-to-date:string',
      'Available:string',
      'Age:string',
      'Containers*:string',
      'Images*:string',
      'Selector*:string',
    ]);
    const d = {
      metadata: meta('web'),
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }],
        },
        template,
      },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.deepEqual(row('apps', 'deployments', d), [
      'web',
      '2/3',
      3,
      2,
      '3h20m',
      'web,log',
      'nginx:1.27,busybox',
      'app=web,tier in (a,b)',
    ]);
    // A fresh deployment has no status yet; an empty selector prints as ''.
    assert.deepEqual(
      row('apps', 'deployments', {
        metadata: meta('x', 5),
        spec: { replicas: 1, selector: {}, template },
      }).slice(0, 5),
      ['x', '0/1', 0, 0, '5s'],
    );
  });

  it('replicasets and replicationcontrollers', () => {
    assert.deepEqual(columns('apps', 'replicasets'), [
      'Name:string',
      'Desired:integer',
      'Current:integer',
      'Ready:integer',
      'Age:string',
      'Containers*:string',
      'Images*:string',
      'Selector*:string',
    ]);
    const rs = {
      metadata: meta('web-5d9c7b'),
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d9c7b' } },
        template,
      },
      status: { replicas: 2, readyReplicas: 1 },
    };
    assert.deepEqual(row('apps', 'replicasets', rs), [
      'web-5d9c7b',
      2,
      2,
      1,
      '3h20m',
      'web,log',
      'nginx:1.27,busybox',
      'app=web,pod-template-hash=5d9c7b',
    ]);
    const rc = {
      metadata: meta('old'),
      spec: { replicas: 1, selector: { b: '2', a: '1' }, template },
      status: { replicas: 1 },
    };
    assert.deepEqual(row('', 'replicationcontrollers', rc), [
      'old',
      1,
      1,
      0,
      '3h20m',
      'web,log',
      'nginx:1.27,busybox',
      'a=1,b=2',
    ]);
  });

  it('statefulsets', () => {
    assert.deepEqual(columns('apps', 'statefulsets'), [
      'Name:string',
      'Ready:string',
      'Age:string',
      'Containers*:string',
      'Images*:string',
    ]);
    const ss = {
      metadata: meta('db', 2 * 86400 + 5 * 3600),
      spec: { replicas: 3, template },
      status: { readyReplicas: 3 },
    };
    assert.deepEqual(row('apps', 'statefulsets', ss), ['db', '3/3', '2d5h', 'web,log', 'nginx:1.27,busybox']);
  });

  it('daemonsets', () => {
    assert.deepEqual(columns('apps', 'daemonsets'), [
      'Name:string',
      'Desired:integer',
      'Current:integer',
      'Ready:integer',
      'Up-to-date:integer',
      'Available:integer',
      'Node Selector:string',
      'Age:string',
      'Containers*:string',
      'Images*:string',
      'Selector*:string',
    ]);
    const ds = {
      metadata: meta('proxy', 95 * 86400),
      spec: {
        selector: { matchLabels: { k8s: 'proxy' } },
        template: {
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [{ name: 'p', image: 'proxy:1' }],
          },
        },
      },
      status: {
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        numberReady: 1,
        updatedNumberScheduled: 2,
        numberAvailable: 1,
      },
    };
    assert.deepEqual(row('apps', 'daemonsets', ds), [
      'proxy',
      2,
      2,
      1,
      2,
      1,
      'kubernetes.io/os=linux',
      '95d',
      'p',
      'proxy:1',
      'k8s=proxy',
    ]);
  });

  it('podtemplates', () => {
    assert.deepEqual(row('', 'podtemplates', { metadata: meta('t'), template }), [
      't',
      'web,log',
      'nginx:1.27,busybox',
      'app=web',
    ]);
  });

  it('controllerrevisions', () => {
    const cr = {
      metadata: {
        ...meta('web-7c8f9', 600),
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true },
        ],
      },
      revision: 2,
    };
    assert.deepEqual(row('apps', 'controllerrevisions', cr), ['web-7c8f9', 'statefulset.apps/web', 2, '10m']);
    assert.deepEqual(row('apps', 'controllerrevisions', { metadata: meta('orphan', 10), revision: 1 }), [
      'orphan',
      '<none>',
      1,
      '10s',
    ]);
  });
});

describe('batch printers', () => {
  it('jobs: status, completions, duration', () => {
    assert.deepEqual(columns('batch', 'jobs'), [
      'Name:string',
      'Status:string',
      'Completions:string',
      'Duration:string',
      'Age:string',
      'Containers*:string',
      'Images*:string',
      'Selector*:string',
    ]);
    const job = (
      status: Record<string, unknown>,
      spec: Record<string, unknown> = {},
      m: Record<string, unknown> = {},
    ) => ({
      metadata: { ...meta('pi', 600), ...m },
      spec: {
        completions: 1,
        parallelism: 1,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } },
        template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } },
        ...spec,
      },
      status,
    });
    assert.deepEqual(
      row(
        'batch',
        'jobs',
        job({
          succeeded: 1,
          startTime: ago(590),
          completionTime: ago(570),
          conditions: [{ type: 'Complete', status: 'True' }],
        }),
      ),
      ['pi', 'Complete', '1/1', '20s', '10m', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=abc'],
    );
    const cases: [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      string,
      string,
      string,
    ][] = [
      [{ active: 1, startTime: ago(200) }, {}, {}, 'Running', '0/1', '3m20s'],
      [{}, {}, {}, 'Running', '0/1', ''],
      [{ conditions: [{ type: 'Failed', status: 'True' }] }, { completions: 3 }, {}, 'Failed', '0/3', ''],
      [
        { conditions: [{ type: 'Suspended', status: 'True' }] },
        { completions: undefined, parallelism: 4 },
        {},
        'Suspended',
        '0/1 of 4',
        '',
      ],
      [{ conditions: [{ type: 'FailureTarget', status: 'True' }] }, {}, {}, 'FailureTarget', '0/1', ''],
      [
        { conditions: [{ type: 'Complete', status: 'False' }] },
        {},
        { deletionTimestamp: ago(1) },
        'Terminating',
        '0/1',
        '',
      ],
      [
        { succeeded: 2, conditions: [{ type: 'Complete', status: 'True' }] },
        {},
        { deletionTimestamp: ago(1) },
        'Complete',
        '2/1',
        '',
      ],
    ];
    for (const [status, spec, m, want, completions, duration] of cases) {
      assert.deepEqual(row('batch', 'jobs', job(status, spec, m)).slice(1, 4), [want, completions, duration]);
    }
  });

  it('cronjobs', () => {
    assert.deepEqual(columns('batch', 'cronjobs'), [
      'Name:string',
      'Schedule:string',
      'Timezone:string',
      'Suspend:boolean',
      'Active:integer',
      'Last Schedule:string',
      'Age:string',
      'Containers*:string',
      'Images*:string',
      'Selector*:string',
    ]);
    const cj = {
      metadata: meta('hello', 3600),
      spec: {
        schedule: '*/1 * * * *',
        suspend: false,
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox' }] } } } },
      },
      status: { active: [{ name: 'hello-1' }], lastScheduleTime: ago(35) },
    };
    assert.deepEqual(row('batch', 'cronjobs', cj), [
      'hello',
      '*/1 * * * *',
      '<none>',
      'False',
      1,
      '35s',
      '60m',
      'hello',
      'busybox',
      '<none>',
    ]);
    const tz = {
      metadata: meta('tz', 10),
      spec: { schedule: '0 0 * * *', timeZone: 'Etc/UTC', suspend: true },
    };
    assert.deepEqual(row('batch', 'cronjobs', tz).slice(0, 7), [
      'tz',
      '0 0 * * *',
      'Etc/UTC',
      'True',
      0,
      '<none>',
      '10s',
    ]);
  });
});
