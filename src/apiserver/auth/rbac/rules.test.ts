import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyRule } from '../../../api/generated/types/rbac-v1.js';
import { CompiledRule, compactRules, compactString, covers, type RuleRequest, ruleAllows } from './rules.js';

function res(verb: string, group: string, resource: string, subresource = '', name = ''): RuleRequest {
  return { verb, resourceRequest: true, apiGroup: group, resource, subresource, name };
}

function url(verb: string, path: string): RuleRequest {
  return { verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', name: '', path };
}

const cases: Array<[string, PolicyRule, RuleRequest, boolean]> = [
  ['exact match', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('get', '', 'pods'), true],
  ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res('delete', '', 'pods'), false],
  ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, res('delete', '', 'pods'), true],
  [
    'other group',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    res('get', 'apps', 'pods'),
    false,
  ],
  ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }, res('get', 'apps', 'pods'), true],
  [
    'resource *',
    { verbs: ['get'], apiGroups: ['apps'], resources: ['*'] },
    res('get', 'apps', 'deployments'),
    true,
  ],
  [
    'resource * covers subresources',
    { verbs: ['get'], apiGroups: [''], resources: ['*'] },
    res('get', '', 'pods', 'log'),
    true,
  ],
  [
    'plain resource does not cover subresource',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    res('get', '', 'pods', 'log'),
    false,
  ],
  [
    'resource/subresource',
    { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
    res('get', '', 'pods', 'log'),
    true,
  ],
  [
    'resource/subresource is not the resource',
    { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
    res('get', '', 'pods'),
    false,
  ],
  [
    '*/subresource',
    { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] },
    res('get', 'apps', 'deployments', 'scale'),
    true,
  ],
  [
    '*/subresource of another subresource',
    { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] },
    res('get', 'apps', 'deployments', 'status'),
    false,
  ],
  [
    '*/subresource is not a resource',
    { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] },
    res('get', 'apps', 'deployments'),
    false,
  ],
  [
    'resourceNames match',
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    res('get', '', 'configmaps', '', 'a'),
    true,
  ],
  [
    'resourceNames other name',
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    res('get', '', 'configmaps', '', 'b'),
    false,
  ],
  [
    'resourceNames and a list (no name)',
    { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    res('list', '', 'configmaps'),
    false,
  ],
  ['url exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz'), true],
  [
    'url not a prefix without *',
    { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    url('get', '/healthz/etcd'),
    false,
  ],
  ['url * suffix', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis/apps/v1'), true],
  [
    'url * suffix excludes the bare prefix',
    { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
    url('get', '/apis'),
    false,
  ],
  ['url *', { verbs: ['*'], nonResourceURLs: ['*'] }, url('post', '/anything'), true],
  [
    'url rule never matches resources',
    { verbs: ['*'], nonResourceURLs: ['*'] },
    res('get', '', 'pods'),
    false,
  ],
  [
    'resource rule never matches urls',
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    url('get', '/api'),
    false,
  ],
];

describe('RBAC rule matching', () => {
  for (const [name, rule, req, want] of cases) {
    it(name, () => {
      assert.equal(ruleAllows(req, rule), want);
      assert.equal(new CompiledRule(rule).allows(req), want, 'compiled rule agrees');
    });
  }
});

describe('rule coverage (escalation arithmetic)', () => {
  it('finds the atomic permissions the owner lacks', () => {
    const owner: PolicyRule[] = [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }];
    const { covered, missing } = covers(owner, [
      { verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] },
    ]);
    assert.equal(covered, false);
    assert.deepEqual(compactRules(missing).map(compactString).sort(), [
      '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}',
    ]);
  });

  it('treats * and */subresource like upstream', () => {
    assert.equal(
      covers(
        [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        [{ verbs: ['get'], apiGroups: ['x'], resources: ['a/b'] }],
      ).covered,
      true,
    );
    assert.equal(
      covers(
        [{ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }],
        [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/scale'] }],
      ).covered,
      true,
    );
    assert.equal(
      covers(
        [{ verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] }],
        [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }],
      ).covered,
      false,
    );
  });

  it('requires resourceNames to be covered', () => {
    const named: PolicyRule[] = [
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] },
    ];
    assert.equal(
      covers(named, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }])
        .covered,
      true,
    );
    assert.equal(covers(named, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).covered, false);
  });

  it('covers non-resource URLs by prefix', () => {
    const owner: PolicyRule[] = [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }];
    assert.equal(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }]).covered, true);
    const { missing } = covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }]);
    assert.deepEqual(missing.map(compactString), ['{NonResourceURLs:["/metrics"], Verbs:["get"]}']);
  });
});
