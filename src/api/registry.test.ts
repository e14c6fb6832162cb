import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groups, resources } from './generated/resources.js';
import {
  allGroups,
  discoveryVerbs,
  groupInfo,
  isConnectSubresource,
  preferredResources,
  resolveResource,
  resourceFor,
  resourceForKind,
  resourcesIn,
  subresourceOf,
} from './registry.js';
import { getDefinition } from './schema.js';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

describe('generated registry', () => {
  it('lists groups with the core group first and the preferred version leading', () => {
    assert.equal(groups[0]?.name, '');
    assert.deepEqual(
      groups.slice(0, 4).map((g) => g.name),
      ['', 'apiregistration.k8s.io', 'apps', 'events.k8s.io'],
    );
    for (const g of groups) {
      assert.equal(g.versions[0], g.preferredVersion, g.name);
      assert.equal(new Set(g.versions).size, g.versions.length);
    }
    assert.deepEqual(groupInfo('autoscaling'), {
      name: 'autoscaling',
      versions: ['v2', 'v1'],
      preferredVersion: 'v2',
    });
    assert.equal(groupInfo('resource.k8s.io')?.preferredVersion, 'v1');
    assert.equal(groupInfo('nope'), undefined);
    assert.equal(allGroups(), groups);
  });

  it('gives every resource a schema definition of its kind', () => {
    for (const r of resources) {
      const def = getDefinition(r.definition);
      assert.ok(def, r.definition);
      assert.ok(
        def.gvk?.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind),
        `${r.group}/${r.version} ${r.kind}`,
      );
      assert.equal(r.singular, r.kind.toLowerCase());
      assert.deepEqual(r.verbs, [...r.verbs].sort());
    }
  });

  it('serves only versions a group lists', () => {
    for (const r of resources)
      assert.ok(groupInfo(r.group)?.versions.includes(r.version), `${r.group}/${r.version}`);
  });
});

describe('resourceFor', () => {
  it('describes pods like upstream discovery', () => {
    const pods = resourceFor('', 'v1', 'pods');
    assert.ok(pods);
    assert.equal(pods.kind, 'Pod');
    assert.equal(pods.listKind, 'PodList');
    assert.equal(pods.namespaced, true);
    assert.deepEqual(pods.shortNames, ['po']);
    assert.deepEqual(pods.categories, ['all']);
    assert.deepEqual(pods.verbs, CRUD);
    assert.equal(pods.definition, 'io.k8s.api.core.v1.Pod');
    assert.deepEqual(subresourceOf(pods, 'status'), {
      name: 'status',
      kind: 'Pod',
      verbs: ['get', 'patch', 'update'],
    });
    assert.deepEqual(subresourceOf(pods, 'eviction'), {
      name: 'eviction',
      kind: 'Eviction',
      group: 'policy',
      version: 'v1',
      verbs: ['create'],
    });
    assert.deepEqual(subresourceOf(pods, 'binding'), { name: 'binding', kind: 'Binding', verbs: ['create'] });
    assert.deepEqual(subresourceOf(pods, 'log'), { name: 'log', kind: 'Pod', verbs: ['get'] });
    const exec = subresourceOf(pods, 'exec');
    assert.ok(exec);
    assert.equal(exec.kind, 'PodExecOptions');
    assert.equal(isConnectSubresource(exec), true);
    assert.deepEqual(discoveryVerbs(exec.verbs), ['create', 'get']);
    const proxy = subresourceOf(pods, 'proxy');
    assert.ok(proxy);
    assert.deepEqual(discoveryVerbs(proxy.verbs), ['create', 'delete', 'get', 'patch', 'update']);
    assert.equal(isConnectSubresource(subresourceOf(pods, 'status')!), false);
    assert.ok(subresourceOf(pods, 'ephemeralcontainers'));
  });

  const table: [string, string, string, Partial<{ kind: string; namespaced: boolean; verbs: string[] }>][] = [
    ['', 'v1', 'namespaces', { kind: 'Namespace', namespaced: false }],
    ['', 'v1', 'nodes', { kind: 'Node', namespaced: false, verbs: CRUD }],
    ['', 'v1', 'bindings', { kind: 'Binding', namespaced: true, verbs: ['create'] }],
    ['', 'v1', 'componentstatuses', { kind: 'ComponentStatus', namespaced: false, verbs: ['get', 'list'] }],
    ['', 'v1', 'endpoints', { kind: 'Endpoints', namespaced: true }],
    ['apps', 'v1', 'deployments', { kind: 'Deployment', namespaced: true, verbs: CRUD }],
    ['authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', { namespaced: false, verbs: ['create'] }],
    ['authorization.k8s.io', 'v1', 'localsubjectaccessreviews', { namespaced: true, verbs: ['create'] }],
    ['rbac.authorization.k8s.io', 'v1', 'clusterroles', { kind: 'ClusterRole', namespaced: false }],
    ['coordination.k8s.io', 'v1', 'leases', { kind: 'Lease', namespaced: true }],
  ];
  for (const [group, version, plural, want] of table) {
    it(`${group}/${version} ${plural}`, () => {
      const r = resourceFor(group, version, plural);
      assert.ok(r);
      if (want.kind !== undefined) assert.equal(r.kind, want.kind);
      if (want.namespaced !== undefined) assert.equal(r.namespaced, want.namespaced);
      if (want.verbs !== undefined) assert.deepEqual(r.verbs, want.verbs);
    });
  }

  it('places Scale, TokenRequest and finalize subresources', () => {
    const deploy = resourceFor('apps', 'v1', 'deployments')!;
    assert.deepEqual(subresourceOf(deploy, 'scale'), {
      name: 'scale',
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
    const rc = resourceFor('', 'v1', 'replicationcontrollers')!;
    assert.equal(subresourceOf(rc, 'scale')?.group, 'autoscaling');
    const sa = resourceFor('', 'v1', 'serviceaccounts')!;
    assert.deepEqual(subresourceOf(sa, 'token'), {
      name: 'token',
      kind: 'TokenRequest',
      group: 'authentication.k8s.io',
      version: 'v1',
      verbs: ['create'],
    });
    const ns = resourceFor('', 'v1', 'namespaces')!;
    assert.deepEqual(subresourceOf(ns, 'finalize')?.verbs, ['update']);
    assert.ok(
      subresourceOf(resourceFor('certificates.k8s.io', 'v1', 'certificatesigningrequests')!, 'approval'),
    );
  });

  it('misses unknown resources', () => {
    assert.equal(resourceFor('', 'v1', 'deployments'), undefined);
    assert.equal(resourceFor('apps', 'v1beta1', 'deployments'), undefined);
  });
});

describe('resourceForKind / resourcesIn', () => {
  it('finds resources by kind', () => {
    assert.equal(resourceForKind('', 'v1', 'Service')?.plural, 'services');
    assert.equal(resourceForKind('networking.k8s.io', 'v1', 'NetworkPolicy')?.plural, 'networkpolicies');
    assert.equal(resourceForKind('apps', 'v1', 'Pod'), undefined);
  });

  it('lists a group/version sorted by plural', () => {
    const apps = resourcesIn('apps', 'v1').map((r) => r.plural);
    assert.deepEqual(apps, [
      'controllerrevisions',
      'daemonsets',
      'deployments',
      'replicasets',
      'statefulsets',
    ]);
    assert.deepEqual(resourcesIn('apps', 'v9'), []);
  });
});

describe('preferredResources', () => {
  it('has each group/resource once, at the preferred version when served there', () => {
    const pref = preferredResources();
    const keys = pref.map((r) => `${r.group}/${r.plural}`);
    assert.equal(new Set(keys).size, keys.length);
    const hpa = pref.find((r) => r.plural === 'horizontalpodautoscalers');
    assert.equal(hpa?.version, 'v2');
    assert.equal(
      pref.find((r) => r.group === 'resource.k8s.io' && r.plural === 'resourceclaims')?.version,
      'v1',
    );
    // Served only by a non-preferred version: still listed, at its newest version.
    const dtr = pref.find((r) => r.group === 'resource.k8s.io' && r.plural === 'devicetaintrules');
    assert.equal(dtr?.version, 'v1beta2');
    assert.equal(pref[0]?.group, '');
  });
});

describe('resolveResource', () => {
  const cases: [string, string | undefined][] = [
    ['po', '/v1/pods'],
    ['pod', '/v1/pods'],
    ['pods', '/v1/pods'],
    ['Pod', '/v1/pods'],
    ['PODS', '/v1/pods'],
    ['svc', '/v1/services'],
    ['deploy', 'apps/v1/deployments'],
    ['deployments.apps', 'apps/v1/deployments'],
    ['deploy.apps', 'apps/v1/deployments'],
    ['deployments.v1.apps', 'apps/v1/deployments'],
    ['pods.v1.', '/v1/pods'],
    ['hpa', 'autoscaling/v2/horizontalpodautoscalers'],
    ['horizontalpodautoscalers.v1.autoscaling', 'autoscaling/v1/horizontalpodautoscalers'],
    ['ev', '/v1/events'],
    ['events', '/v1/events'],
    ['events.events.k8s.io', 'events.k8s.io/v1/events'],
    ['crd', 'apiextensions.k8s.io/v1/customresourcedefinitions'],
    ['crds', 'apiextensions.k8s.io/v1/customresourcedefinitions'],
    ['customresourcedefinition', 'apiextensions.k8s.io/v1/customresourcedefinitions'],
    ['netpol', 'networking.k8s.io/v1/networkpolicies'],
    ['cj', 'batch/v1/cronjobs'],
    ['quota', '/v1/resourcequotas'],
    ['limits', '/v1/limitranges'],
    ['pods.apps', undefined],
    ['nope', undefined],
    ['', undefined],
  ];
  for (const [arg, want] of cases) {
    it(`${JSON.stringify(arg)} → ${want ?? 'none'}`, () => {
      const r = resolveResource(arg);
      assert.equal(r === undefined ? undefined : `${r.group}/${r.version}/${r.plural}`, want);
    });
  }
});
