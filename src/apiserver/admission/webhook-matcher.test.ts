import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFor } from '../../api/registry.js';
import { ruleMatches, webhookMatches } from './webhook-matcher.js';
import type { AdmissionRequest } from './types.js';

function req(
  plural: string,
  sub = '',
  op: AdmissionRequest['operation'] = 'CREATE',
  labels?: Record<string, string>,
): AdmissionRequest {
  const group = plural === 'deployments' ? 'apps' : '';
  const resource = resourceFor(group, 'v1', plural)!;
  return {
    operation: op,
    resource,
    subresource: sub,
    namespace: resource.namespaced ? 'ns' : '',
    name: 'x',
    object: { metadata: { name: 'x', ...(labels ? { labels } : {}) } },
    oldObject: undefined,
    user: { username: 'u', groups: [] },
    dryRun: false,
  };
}

describe('webhook rules', () => {
  const rule = (resources: string[], extra: Record<string, unknown> = {}) => ({
    operations: ['CREATE'],
    apiGroups: ['*'],
    apiVersions: ['*'],
    resources,
    ...extra,
  });
  const cases: Array<[string, ReturnType<typeof rule>, AdmissionRequest, boolean]> = [
    ['exact resource', rule(['pods']), req('pods'), true],
    ['resource does not cover subresource', rule(['pods']), req('pods', 'status'), false],
    ['pods/* covers subresources only', rule(['pods/*']), req('pods', 'status'), true],
    ['pods/* not the main resource', rule(['pods/*']), req('pods'), false],
    ['* is main resources', rule(['*']), req('deployments'), true],
    ['*/status', rule(['*/status']), req('pods', 'status'), true],
    ['*/* everything', rule(['*/*']), req('pods', 'binding'), true],
    ['operation mismatch', rule(['pods']), req('pods', '', 'UPDATE'), false],
    ['group mismatch', rule(['deployments'], { apiGroups: [''] }), req('deployments'), false],
    ['scope Cluster', rule(['*'], { scope: 'Cluster' }), req('pods'), false],
    ['scope Namespaced', rule(['*'], { scope: 'Namespaced' }), req('pods'), true],
  ];
  for (const [name, r, rq, want] of cases) {
    it(name, () => assert.equal(ruleMatches(r, rq), want));
  }

  it('applies namespace and object selectors and literal match conditions', () => {
    const hook = {
      rules: [rule(['pods'])],
      namespaceSelector: { matchLabels: { env: 'prod' } },
      objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
    };
    assert.equal(webhookMatches(hook, req('pods'), { env: 'prod' }), true);
    assert.equal(webhookMatches(hook, req('pods'), { env: 'dev' }), false);
    assert.equal(webhookMatches(hook, req('pods', '', 'CREATE', { skip: 'yes' }), { env: 'prod' }), false);
    assert.equal(
      webhookMatches({ ...hook, matchConditions: [{ name: 'off', expression: 'false' }] }, req('pods'), {
        env: 'prod',
      }),
      false,
    );
  });

  it('evaluates CEL match conditions over the request; an error fails closed unless Ignore', () => {
    const hook = { rules: [rule(['pods'])] };
    const cond = (expression: string) => ({ ...hook, matchConditions: [{ name: 'c', expression }] });
    const cases: [string, boolean][] = [
      ["request.userInfo.username == 'u'", true],
      ["request.userInfo.username != 'u'", false],
      ["object.metadata.name == 'x' && request.operation == 'CREATE'", true],
      ['oldObject == null', true],
    ];
    for (const [expression, want] of cases) {
      assert.equal(webhookMatches(cond(expression), req('pods'), undefined), want, expression);
    }
    // A false condition wins over an erroring one.
    const mixed = {
      ...hook,
      matchConditions: [
        { name: 'err', expression: 'object.spec.nope == 1' },
        { name: 'no', expression: 'false' },
      ],
    };
    assert.equal(webhookMatches(mixed, req('pods'), undefined), false);
    assert.throws(() => webhookMatches(cond('object.spec.nope == 1'), req('pods'), undefined), {
      message: `pods "x" is forbidden: expression 'object.spec.nope == 1' resulted in error: no such key: spec`,
    });
    assert.equal(
      webhookMatches({ ...cond('object.spec.nope == 1'), failurePolicy: 'Ignore' }, req('pods'), undefined),
      false,
    );
  });
});
