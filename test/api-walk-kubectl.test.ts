// A kubectl user's walk over API-server behaviour where kts once differed from upstream 1.32:
// the message for a field selector a kind does not support (its own conversion's or the
// scheme's default), LimitRange defaulting as `describe limits` and the LimitRanger plugin
// show it, and PriorityClass rules (user values capped, `system-` names reserved, the value
// immutable, the built-in classes undeletable), the verbose health endpoints listing
// upstream's checks, `get componentstatuses` with its columns and deprecation warning, and
// ResourceQuota validation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let api: TestApiServer;
let k: Kubectl;

before(async () => {
  api = await startTestApiServer();
  k = new Kubectl(api.server.kubeconfigPath);
});

after(async () => {
  k.cleanup();
  await api.stop();
});

async function fails(args: string[], stderr: string, stdin?: string): Promise<void> {
  const r = await k.run(args, stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 1, `kubectl ${args.join(' ')} should fail`);
  assert.equal(r.stderr.trim(), stderr);
}

describe('field selectors', () => {
  it('answers an unsupported field with the message of the kind’s own conversion or the default one', async () => {
    await fails(
      ['get', 'pods', '-A', '--field-selector=foo=bar'],
      'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "foo=bar": field label not supported: foo',
    );
    await fails(
      ['get', 'deployments', '-A', '--field-selector=spec.replicas=1'],
      'Error from server (BadRequest): Unable to find "apps/v1, Resource=deployments" that match label selector "", field selector "spec.replicas=1": "spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
    await fails(
      ['get', 'namespaces', '--field-selector=metadata.namespace=x'],
      'Error from server (BadRequest): Unable to find "/v1, Resource=namespaces" that match label selector "", field selector "metadata.namespace=x": field label not supported: metadata.namespace',
    );
    const ok = await k.ok(['get', 'namespaces', '--field-selector=status.phase=Active', '-o', 'name']);
    assert.ok(ok.split('\n').includes('namespace/default'));
  });
});

describe('LimitRange', () => {
  it('defaults a container default request from the default limit, as describe and the plugin show', async () => {
    await k.ok(['create', 'namespace', 'limits']);
    await k.ok(['-n', 'limits', 'create', 'serviceaccount', 'default']);
    await k.ok(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: LimitRange
metadata:
  name: lim
  namespace: limits
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1", memory: 512Mi, ephemeral-storage: 1Gi}
`,
    });
    const lr = JSON.parse(await k.ok(['-n', 'limits', 'get', 'limitrange', 'lim', '-o', 'json']));
    assert.deepEqual(lr.spec.limits[0].default, { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '1Gi' });
    assert.deepEqual(lr.spec.limits[0].defaultRequest, {
      cpu: '100m',
      memory: '256Mi',
      'ephemeral-storage': '1Gi',
    });
    const described = await k.ok(['-n', 'limits', 'describe', 'limits', 'lim']);
    assert.match(described, /^Container\s+memory\s+-\s+512Mi\s+256Mi\s+256Mi\s+-\s*$/m);
    await k.ok(['-n', 'limits', 'run', 'a', '--image=kts.local/busybox:latest']);
    const pod = JSON.parse(await k.ok(['-n', 'limits', 'get', 'pod', 'a', '-o', 'json']));
    assert.equal(
      pod.metadata.annotations['kubernetes.io/limit-ranger'],
      'LimitRanger plugin set: cpu, ephemeral-storage, memory request for container a; cpu, ephemeral-storage, memory limit for container a',
    );
    assert.deepEqual(pod.spec.containers[0].resources.requests, {
      cpu: '100m',
      'ephemeral-storage': '1Gi',
      memory: '256Mi',
    });
  });
});

describe('PriorityClass', () => {
  it('refuses values above the user maximum and reserved system- names', async () => {
    await fails(
      ['create', 'priorityclass', 'huge', '--value=2000000000'],
      'error: failed to create priorityclass: PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    );
    await fails(
      ['create', 'priorityclass', 'system-mine', '--value=10'],
      'error: failed to create priorityclass: PriorityClass.scheduling.k8s.io "system-mine" is invalid: metadata.name: Forbidden: priority class names with \'system-\' prefix are reserved for system use only. error: system-mine is not a known system priority class',
    );
  });

  it('keeps the value immutable and the built-in classes undeletable', async () => {
    await k.ok(['create', 'priorityclass', 'high', '--value=1000']);
    await fails(
      ['patch', 'priorityclass', 'high', '-p', '{"value":5}'],
      'The PriorityClass "high" is invalid: value: Forbidden: may not be changed in an update.',
    );
    await fails(
      ['delete', 'priorityclass', 'system-node-critical'],
      'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted',
    );
    assert.equal(
      (await k.ok(['delete', 'priorityclass', 'high'])).trim(),
      'priorityclass.scheduling.k8s.io "high" deleted',
    );
  });
});

describe('health endpoints', () => {
  it('list upstream’s checks under ?verbose, readiness ones only on /readyz', async () => {
    const ready = await k.ok(['get', '--raw', '/readyz?verbose']);
    assert.ok(
      ready.startsWith('[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[+]informer-sync ok\n'),
      ready,
    );
    assert.ok(
      ready.endsWith(
        '[+]poststarthook/apiservice-openapiv3-controller ok\n[+]shutdown ok\nreadyz check passed\n',
      ),
    );
    for (const line of ['[+]poststarthook/rbac/bootstrap-roles ok', '[+]autoregister-completion ok'])
      assert.ok(ready.split('\n').includes(line), line);
    const live = await k.ok(['get', '--raw', '/livez?verbose']);
    assert.ok(live.startsWith('[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]poststarthook/'), live);
    assert.ok(
      live.endsWith('[+]poststarthook/apiservice-openapiv3-controller ok\nlivez check passed\n'),
      live,
    );
    assert.ok(!live.includes('[+]shutdown') && !live.includes('[+]informer-sync'));
    assert.equal(await k.ok(['get', '--raw', '/readyz/shutdown']), 'ok');
    assert.equal(await k.ok(['get', '--raw', '/livez/poststarthook/rbac/bootstrap-roles']), 'ok');
    assert.equal(await k.ok(['get', '--raw', '/healthz']), 'ok');
  });
});

describe('componentstatuses', () => {
  it('prints the status table with the deprecation warning', async () => {
    const r = await k.run(['get', 'componentstatuses']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'Warning: v1 ComponentStatus is deprecated in v1.19+\n');
    assert.deepEqual(
      r.stdout.split('\n').map((l) => l.trimEnd()),
      [
        'NAME                 STATUS    MESSAGE   ERROR',
        'controller-manager   Healthy   ok',
        'scheduler            Healthy   ok',
        'etcd-0               Healthy   ok',
        '',
      ],
    );
  });
});

describe('ResourceQuota validation', () => {
  it('refuses negative amounts and names quota cannot count', async () => {
    await fails(
      ['create', 'quota', 'neg', '--hard=pods=-1'],
      'error: failed to create quota: ResourceQuota "neg" is invalid: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
    );
    await fails(
      ['create', 'quota', 'odd', '--hard=foo=1'],
      'error: failed to create quota: ResourceQuota "odd" is invalid: [spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified, spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota]',
    );
    await k.ok(['create', 'quota', 'fine', '--hard=pods=2,count/deployments.apps=1,requests.cpu=500m']);
  });
});
