import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Namespace } from '../../api/generated/types/core-v1.js';
import { resourceFor } from '../../api/registry.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import { SharedInformerFactory } from '../../client/cache/informer-factory.js';
import { noopLogger } from '../../client/log.js';
import { CONFIGMAPS, NAMESPACES } from '../../client/resources.js';
import { FakeClient } from '../../client/testing/fake-client.js';
import { FakeClock } from '../../client/testing/fake-clock.js';
import { DEFAULT_CONTROLLER_OPTIONS } from '../types.js';
import { type ContentResult, NamespaceController, namespaceConditions } from './controller.js';

const NOW = Date.UTC(2024, 0, 1);

describe('namespace conditions', () => {
  const cases: Array<{
    name: string;
    result: ContentResult;
    want: Record<string, [string, string, string]>;
  }> = [
    {
      name: 'all clear',
      result: { remaining: new Map(), finalizers: new Map(), errors: [] },
      want: {
        NamespaceContentRemaining: ['False', 'ContentRemoved', 'All content successfully removed'],
        NamespaceFinalizersRemaining: [
          'False',
          'ContentHasNoFinalizers',
          'All content-preserving finalizers finished',
        ],
      },
    },
    {
      name: 'content and finalizers remain',
      result: {
        remaining: new Map([
          ['pods', 2],
          ['deployments.apps', 1],
        ]),
        finalizers: new Map([['example.com/x', 1]]),
        errors: [],
      },
      want: {
        NamespaceContentRemaining: [
          'True',
          'SomeResourcesRemain',
          'Some resources are remaining: deployments.apps has 1 resource instances, pods has 2 resource instances',
        ],
        NamespaceFinalizersRemaining: [
          'True',
          'SomeFinalizersRemain',
          'Some content in the namespace has finalizers remaining: example.com/x in 1 resource instances',
        ],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const conds = namespaceConditions([], c.result, NOW);
      const byType = Object.fromEntries(conds.map((x) => [x.type, [x.status, x.reason, x.message]]));
      for (const [type, want] of Object.entries(c.want)) assert.deepEqual(byType[type], want);
      assert.deepEqual(byType.NamespaceDeletionDiscoveryFailure, [
        'False',
        'ResourcesDiscovered',
        'All resources successfully discovered',
      ]);
      assert.equal(conds.length, 5);
    });
  }
});

describe('namespace controller sync', () => {
  it('deletes the content of a terminating namespace, then finalizes it', async () => {
    const ns: Namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'doomed', deletionTimestamp: '2024-01-01T00:00:00Z' },
      spec: { finalizers: ['kubernetes'] },
    };
    const fake = new FakeClient([
      { gvr: NAMESPACES, object: ns },
      {
        gvr: CONFIGMAPS,
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'doomed' } },
      },
    ]);
    const clock = new FakeClock();
    const resources = [resourceFor('', 'v1', 'configmaps'), resourceFor('', 'v1', 'namespaces')].filter(
      (r): r is ResourceInfo => r !== undefined,
    );
    const ctrl = new NamespaceController(
      {
        client: fake,
        informers: new SharedInformerFactory(fake, { clock }),
        recorder: () => ({ event: () => {}, annotatedEvent: () => {} }),
        clock,
        log: noopLogger,
        options: DEFAULT_CONTROLLER_OPTIONS,
      },
      resources,
    );
    await ctrl.sync('doomed');
    assert.equal(fake.tracker.list(CONFIGMAPS, 'doomed').items.length, 0);
    const finalize = fake.actions().find((a) => a.verb === 'update' && a.subresource === 'finalize');
    assert.deepEqual((finalize?.object as Namespace | undefined)?.spec?.finalizers, []);
    const status = fake.actions().find((a) => a.verb === 'update' && a.subresource === 'status');
    const conds = (status?.object as Namespace | undefined)?.status?.conditions ?? [];
    assert.equal(conds.find((c) => c.type === 'NamespaceContentRemaining')?.reason, 'ContentRemoved');
  });
});
