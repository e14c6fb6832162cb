// The API server driven by the real kubectl with default flags, as a user would: every
// command must succeed with no error or warning output and leave the expected state.
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

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app, tier: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        ports: [{containerPort: 80}, {containerPort: 443}]
        env: [{name: A, value: "1"}]
`;

describe('discovery and explain', () => {
  it('lists api-resources and api-versions', async () => {
    const res = await k.ok(['api-resources']);
    assert.match(res, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(res, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    const vers = await k.ok(['api-versions']);
    assert.match(vers, /^apps\/v1$/m);
    assert.match(vers, /^v1$/m);
  });

  it('explains fields', async () => {
    const out = await k.ok(['explain', 'deployment.spec.strategy']);
    assert.match(out, /rollingUpdate/);
  });

  it('has the system namespaces and the kubernetes service', async () => {
    const ns = await k.ok(['get', 'ns', '-o', 'name']);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
      assert.match(ns, new RegExp(`namespace/${n}`));
    const svc = await k.ok(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(svc, '10.43.0.1');
  });
});

describe('create with protobuf bodies', () => {
  it('creates each kind kubectl sends as protobuf', async () => {
    const cmds: string[][] = [
      ['create', 'configmap', 'cm1', '--from-literal=a=b'],
      ['create', 'secret', 'generic', 's1', '--from-literal=k=v'],
      ['create', 'serviceaccount', 'sa1'],
      ['create', 'role', 'r1', '--verb=get', '--resource=pods'],
      ['create', 'quota', 'q1', '--hard=pods=10'],
      ['create', 'job', 'j1', '--image=busybox'],
      ['create', 'cronjob', 'cj1', '--image=busybox', '--schedule=*/5 * * * *'],
      ['create', 'deployment', 'web', '--image=nginx', '--replicas=2'],
      ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080'],
      ['create', 'service', 'nodeport', 'np1', '--tcp=80:8080'],
    ];
    for (const c of cmds) assert.match(await k.ok(c), /created/);
    const job = JSON.parse(await k.ok(['get', 'job', 'j1', '-o', 'json'])) as {
      spec: { selector: { matchLabels: Record<string, string> } };
      metadata: { uid: string };
    };
    assert.equal(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], job.metadata.uid);
    const np = JSON.parse(await k.ok(['get', 'svc', 'np1', '-o', 'json'])) as {
      spec: { clusterIP: string; ports: Array<{ nodePort: number }> };
    };
    assert.match(np.spec.clusterIP, /^10\.43\./);
    assert.ok(np.spec.ports[0]!.nodePort >= 30000 && np.spec.ports[0]!.nodePort <= 32767);
    const d = JSON.parse(await k.ok(['get', 'deploy', 'web', '-o', 'json'])) as {
      spec: Record<string, unknown>;
      status: unknown;
    };
    assert.deepEqual(d.status, {});
    assert.equal((d.spec.template as { spec: { restartPolicy: string } }).spec.restartPolicy, 'Always');
    assert.equal(
      Object.hasOwn((d.spec.template as { spec: Record<string, unknown> }).spec, 'hostNetwork'),
      false,
    );
  });

  it('answers auth can-i and create token', async () => {
    assert.equal((await k.ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
    const token = (await k.ok(['create', 'token', 'sa1'])).trim();
    assert.equal(token.split('.').length, 3);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string };
    assert.equal(claims.sub, 'system:serviceaccount:default:sa1');
  });
});

describe('apply, diff, patch', () => {
  it('merges a second client-side apply three-way', async () => {
    const f1 = k.file('d1.yaml', DEPLOY);
    assert.match(await k.ok(['apply', '-f', f1]), /deployment.apps\/app created/);
    assert.match(await k.ok(['apply', '-f', f1]), /deployment.apps\/app unchanged/);
    const d2 = DEPLOY.replace('nginx:1.25', 'nginx:1.26')
      .replace(', {containerPort: 443}', '')
      .replace(', tier: web', '')
      .replace('value: "1"}]', 'value: "1"}, {name: B, value: "2"}]');
    const f2 = k.file('d2.yaml', d2);
    const diff = await k.run(['diff', '-f', f2]);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /\+\s+image: nginx:1.26/);
    const same = await k.run(['diff', '-f', f1]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(await k.ok(['apply', '-f', f2]), /configured/);
    const d = JSON.parse(await k.ok(['get', 'deploy', 'app', '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; generation: number };
      spec: {
        template: { spec: { containers: Array<{ image: string; ports: unknown[]; env: unknown[] }> } };
      };
    };
    assert.deepEqual(d.metadata.labels, { app: 'app' });
    assert.equal(d.metadata.generation, 2);
    const c = d.spec.template.spec.containers[0]!;
    assert.equal(c.image, 'nginx:1.26');
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.deepEqual(c.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it('applies server-side with conflicts and --force-conflicts', async () => {
    const f = k.file(
      'ssa.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa1}\ndata: {a: "1", b: "2"}\n',
    );
    assert.match(await k.ok(['apply', '--server-side', '-f', f]), /serverside-applied/);
    const f2 = k.file(
      'ssa2.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa1}\ndata: {a: "9"}\n',
    );
    const r = await k.run(['apply', '--server-side', '-f', f2, '--field-manager=other']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.a/);
    await k.ok(['apply', '--server-side', '-f', f2, '--field-manager=other', '--force-conflicts']);
    assert.equal(await k.ok(['get', 'cm', 'ssa1', '-o', 'jsonpath={.data}']), '{"a":"9","b":"2"}');
  });

  it('patches with every patch type', async () => {
    await k.ok(['create', 'cm', 'pt', '--from-literal=a=b']);
    await k.ok(['patch', 'cm', 'pt', '--type=merge', '-p', '{"data":{"m":"1"}}']);
    await k.ok(['patch', 'cm', 'pt', '--type=json', '-p', '[{"op":"add","path":"/data/j","value":"2"}]']);
    await k.ok(['patch', 'cm', 'pt', '-p', '{"data":{"s":"3"}}']);
    assert.equal(
      await k.ok(['get', 'cm', 'pt', '-o', 'jsonpath={.data}']),
      '{"a":"b","j":"2","m":"1","s":"3"}',
    );
    const bad = await k.run([
      'patch',
      'cm',
      'pt',
      '--type=json',
      '-p',
      '[{"op":"test","path":"/data/a","value":"x"}]',
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the server rejected our request due to an error in our request/);
  });

  it('labels and annotates, with --overwrite and removal', async () => {
    await k.ok(['label', 'cm', 'pt', 'x=1']);
    const again = await k.run(['label', 'cm', 'pt', 'x=2']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /'x' already has a value \(1\), and --overwrite is false/);
    await k.ok(['label', 'cm', 'pt', 'x=2', '--overwrite']);
    await k.ok(['annotate', 'cm', 'pt', 'note=hi']);
    assert.equal(
      await k.ok(['get', 'cm', 'pt', '-o', 'jsonpath={.metadata.labels.x}/{.metadata.annotations.note}']),
      '2/hi',
    );
    await k.ok(['label', 'cm', 'pt', 'x-']);
    assert.equal(await k.ok(['get', 'cm', 'pt', '-o', 'jsonpath={.metadata.labels}']), '');
  });

  it('scales through the scale subresource', async () => {
    await k.ok(['scale', 'deploy', 'app', '--replicas=5']);
    assert.equal(await k.ok(['get', 'deploy', 'app', '-o', 'jsonpath={.spec.replicas}']), '5');
  });

  it('dry-runs on the server without persisting', async () => {
    assert.equal(
      (await k.ok(['create', 'cm', 'dry', '--from-literal=a=b', '--dry-run=server', '-o', 'name'])).trim(),
      'configmap/dry',
    );
    const r = await k.run(['get', 'cm', 'dry']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /configmaps "dry" not found/);
  });
});

describe('get output and waiting', () => {
  it('prints tables, names, custom columns, sorted and chunked lists', async () => {
    const t = await k.ok(['get', 'deploy']);
    assert.match(t, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    assert.match(await k.ok(['get', 'deploy', 'app', '-o', 'name']), /^deployment.apps\/app$/m);
    const cc = await k.ok(['get', 'cm', 'pt', '-o', 'custom-columns=NAME:.metadata.name,A:.data.a']);
    assert.match(cc, /^pt\s+b$/m);
    const sorted = (await k.ok(['get', 'cm', '--sort-by=.metadata.name', '-o', 'name'])).trim().split('\n');
    assert.deepEqual(sorted, [...sorted].sort());
    const chunked = await k.ok(['get', 'cm', '--chunk-size=1', '-o', 'name']);
    assert.equal(chunked.trim().split('\n').length, sorted.length);
    assert.match(await k.ok(['get', 'cm', 'pt', '-o', 'yaml']), /^kind: ConfigMap$/m);
  });

  it('waits for jsonpath, delete and condition', async () => {
    await k.ok(['create', 'cm', 'w1']);
    const waitLabel = k.run(['wait', '--for=jsonpath={.metadata.labels.w}=1', 'cm/w1', '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 500));
    await k.ok(['label', 'cm', 'w1', 'w=1']);
    assert.equal((await waitLabel).code, 0);
    const waitDel = k.run(['wait', '--for=delete', 'cm/w1', '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 500));
    await k.ok(['delete', 'cm', 'w1']);
    const r = await waitDel;
    assert.equal(r.code, 0, r.stderr);
  });

  it('streams changes with get -w', async () => {
    const watch = k.run(['get', 'cm', '-w', '--request-timeout=4s'], { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 800));
    await k.ok(['create', 'cm', 'watched']);
    const out = await watch;
    assert.match(out.stdout, /^watched\s+0\s+/m);
  });
});

describe('deletion', () => {
  it('holds an object with finalizers until they are removed', async () => {
    const f = k.file(
      'fin.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [example.com/hold]}\n',
    );
    await k.ok(['apply', '-f', f]);
    await k.ok(['delete', 'cm', 'held', '--wait=false']);
    assert.notEqual(await k.ok(['get', 'cm', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}']), '');
    await k.ok([
      'patch',
      'cm',
      'held',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    const r = await k.run(['get', 'cm', 'held']);
    assert.match(r.stderr, /not found/);
  });

  it('refuses content in a terminating namespace', async () => {
    await k.ok(['create', 'ns', 'doomed']);
    await k.ok(['delete', 'ns', 'doomed', '--wait=false']);
    const r = await k.run(['create', 'cm', 'x', '-n', 'doomed']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unable to create new content in namespace doomed because it is being terminated/);
  });
});

describe('admission', () => {
  it('PodSecurity restricted refuses a privileged pod with the upstream message', async () => {
    await k.ok(['create', 'ns', 'psa']);
    await k.ok(['create', 'sa', 'default', '-n', 'psa']);
    await k.ok(['label', 'ns', 'psa', 'pod-security.kubernetes.io/enforce=restricted']);
    const f = k.file(
      'priv.yaml',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: priv, namespace: psa}\nspec:\n  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]\n',
    );
    const r = await k.run(['apply', '-f', f]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "c" must not set securityContext.privileged=true\)/,
    );
  });

  it('ResourceQuota refuses the object over quota; ServiceAccount and tolerations are injected', async () => {
    await k.ok(['create', 'ns', 'quota']);
    await k.ok(['create', 'sa', 'default', '-n', 'quota']);
    await k.ok(['create', 'quota', 'q', '--hard=pods=1', '-n', 'quota']);
    await k.ok(['run', 'p1', '--image=busybox', '-n', 'quota']);
    const r = await k.run(['run', 'p2', '--image=busybox', '-n', 'quota']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /pods "p2" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1/,
    );
    const pod = JSON.parse(await k.ok(['get', 'pod', 'p1', '-n', 'quota', '-o', 'json'])) as {
      spec: {
        serviceAccountName: string;
        volumes: Array<{ name: string }>;
        tolerations: Array<{ key: string; tolerationSeconds: number }>;
      };
    };
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.match(pod.spec.volumes[0]!.name, /^kube-api-access-[a-z0-9]{5}$/);
    assert.deepEqual(
      pod.spec.tolerations.map((t) => `${t.key}:${t.tolerationSeconds}`),
      ['node.kubernetes.io/not-ready:300', 'node.kubernetes.io/unreachable:300'],
    );
  });
});

describe('binding', () => {
  it('binds a pod to a node through a Binding object', async () => {
    await k.ok(['run', 'tobind', '--image=busybox']);
    const f = k.file(
      'binding.yaml',
      'apiVersion: v1\nkind: Binding\nmetadata: {name: tobind}\ntarget: {apiVersion: v1, kind: Node, name: node-1}\n',
    );
    await k.ok(['create', '-f', f]);
    const pod = JSON.parse(await k.ok(['get', 'pod', 'tobind', '-o', 'json'])) as {
      spec: { nodeName: string };
      status: { conditions: Array<{ type: string; status: string }> };
    };
    assert.equal(pod.spec.nodeName, 'node-1');
    assert.ok(pod.status.conditions.some((c) => c.type === 'PodScheduled' && c.status === 'True'));
    const again = await k.run(['create', '-f', f]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /pod tobind is already assigned to node "node-1"/);
  });
});

describe('describe, replace, edit', () => {
  it('describes, replaces (409 when stale) and edits a deployment', async () => {
    await k.ok(['create', 'deployment', 'dre', '--image=nginx', '--replicas=2']);
    const d = await k.ok(['describe', 'deployment', 'dre']);
    assert.match(d, /^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    assert.match(d, /^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    const yaml = await k.ok(['get', 'deploy', 'dre', '-o', 'yaml']);
    const f = k.file('dre.yaml', yaml.replace('replicas: 2', 'replicas: 4'));
    assert.match(await k.ok(['replace', '-f', f]), /deployment.apps\/dre replaced/);
    const stale = await k.run(['replace', '-f', f]);
    assert.equal(stale.code, 1);
    assert.match(
      stale.stderr,
      /Operation cannot be fulfilled on deployments.apps "dre": the object has been modified/,
    );
    const edit = await k.run(['edit', 'deploy', 'dre'], {
      env: { EDITOR: 'sed -i s/replicas:.4/replicas:\\ 6/' },
    });
    assert.equal(edit.code, 0, edit.stderr);
    assert.match(edit.stdout, /deployment.apps\/dre edited/);
    assert.equal(await k.ok(['get', 'deploy', 'dre', '-o', 'jsonpath={.spec.replicas}']), '6');
  });
});
