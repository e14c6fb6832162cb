// Upstream's pod spec warnings through the real kubectl: the `Warning: …` lines it prints
// on stderr for a Deployment and a Pod with suspicious specs (deprecated node labels and
// annotations, duplicate ports and env names, fractional memory, a negative grace period,
// a name that is no DNS label), on create and on an update that changes the template, and
// none for an update that leaves the template alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let api: TestApiServer;
let k: Kubectl;

before(async () => {
  api = await startTestApiServer(undefined, ['default']);
  k = new Kubectl(api.server.kubeconfigPath);
});

after(async () => {
  k.cleanup();
  await api.stop();
});

function warnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('Warning: '))
    .map((l) => l.slice('Warning: '.length));
}

function deployment(nodeSelectorKey: string, memory: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web.v1
spec:
  replicas: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations:
        scheduler.alpha.kubernetes.io/critical-pod: ""
    spec:
      nodeSelector:
        ${nodeSelectorKey}: amd64
      containers:
      - name: c
        image: kts.local/busybox:latest
        ports:
        - containerPort: 80
        - containerPort: 80
        env:
        - {name: A, value: one}
        - {name: A, value: two}
        resources:
          limits: {memory: ${memory}}
`;
}

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: p.one
spec:
  terminationGracePeriodSeconds: -1
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: failure-domain.beta.kubernetes.io/zone, operator: In, values: [a]}
  volumes:
  - name: repo
    gitRepo: {repository: "https://example.invalid/r.git"}
  containers:
  - name: c
    image: kts.local/busybox:latest
`;

describe('pod spec warnings (kubectl)', () => {
  it('a Deployment create prints every template warning under spec.template', async () => {
    const r = await k.run(['create', '-f', '-'], { stdin: deployment('beta.kubernetes.io/arch', '1.5') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'deployment.apps/web.v1 created');
    assert.deepEqual(warnings(r.stderr), [
      'metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]',
      'spec.template.spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; use "kubernetes.io/arch" instead',
      'spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead',
      'spec.template.spec.containers[0].resources.limits[memory]: fractional byte value "1500m" is invalid, must be an integer',
      'spec.template.spec.containers[0].env[1]: hides previous definition of "A", which may be dropped when using apply',
      'spec.template.spec.containers[0].ports[1]: duplicate port definition with spec.template.spec.containers[0].ports[0]',
    ]);
  });

  it('an update that leaves the template alone warns about nothing', async () => {
    const r = await k.run(['label', 'deployment', 'web.v1', 'tier=front']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(warnings(r.stderr), []);
  });

  it('an update of the template warns about the new template', async () => {
    const r = await k.run(['replace', '-f', '-'], { stdin: deployment('beta.kubernetes.io/os', '1Gi') });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(warnings(r.stderr), [
      'spec.template.spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead',
      'spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead',
      'spec.template.spec.containers[0].env[1]: hides previous definition of "A", which may be dropped when using apply',
      'spec.template.spec.containers[0].ports[1]: duplicate port definition with spec.template.spec.containers[0].ports[0]',
    ]);
  });

  it('a Pod create warns with paths from the pod root', async () => {
    const r = await k.run(['create', '-f', '-'], { stdin: POD });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'pod/p.one created');
    assert.deepEqual(warnings(r.stderr), [
      "metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]",
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key: failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
      'spec.volumes[0].gitRepo: deprecated in v1.11',
      'spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1',
    ]);
  });

  it('a Pod update warns about nothing', async () => {
    const r = await k.run(['annotate', 'pod', 'p.one', 'note=x']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(warnings(r.stderr), []);
  });

  it('an invalid object gets its error and no warnings, as upstream warns only after validation', async () => {
    const r = await k.run(['create', '-f', '-'], {
      stdin: deployment('beta.kubernetes.io/arch', '1.5').replace('replicas: 0', 'replicas: -1'),
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    assert.deepEqual(warnings(r.stderr), []);
  });
});
