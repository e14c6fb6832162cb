// What the real kubectl prints when a user's request is wrong, compared with what it prints
// against upstream 1.32: typos in manifests under each write path (create, client-side apply
// of an existing object, edit, server-side apply), immutable fields (a Service's cluster IP,
// a Deployment's selector), and the resource list a 1.32 server advertises.
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
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

const CM = (extra: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: typo
data:
  a: "1"
${extra}`;

describe('unknown fields', () => {
  it('create reports them as the decoder does', async () => {
    const f = k.file('typo-create.yaml', CM('bogus: 1\n'));
    const r = await k.run(['create', '-f', f]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'Error from server (BadRequest): error when creating "' +
        f +
        '": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"',
    );
  });

  it('client-side apply to an existing object reports an invalid patch', async () => {
    const f = k.file('typo-apply.yaml', CM(''));
    await k.ok(['apply', '-f', f]);
    const g = k.file('typo-apply2.yaml', CM('spec:\n  x: 1.5\n'));
    const r = await k.run(['apply', '-f', g]);
    assert.equal(r.code, 1);
    // the value is the strategic merge patch as Go's %+v prints the decoded map
    assert.match(
      r.stderr,
      /^The request is invalid: patch: Invalid value: "map\[metadata:map\[annotations:map\[kubectl\.kubernetes\.io\/last-applied-configuration:\{\\"apiVersion\\":\\"v1\\",.*\\n\]\] spec:map\[x:1\.5\]\]": strict decoding error: unknown field "spec"$/m,
    );
  });

  it('edit reopens the editor on an invalid patch', async () => {
    await k.ok(['create', 'configmap', 'edited', '--from-literal=x=y']);
    const editor = k.file(
      'editor.sh',
      '#!/bin/sh\nsed -i "s/^  name: edited/  name: edited\\n  bogus: 1/" "$1"\n',
    );
    chmodSync(editor, 0o755);
    const r = await k.run(['edit', 'cm', 'edited'], { env: { EDITOR: editor } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: configmaps "edited" is invalid$/m);
    assert.match(r.stderr, /^error: Edit cancelled, no valid changes were saved\.$/m);
  });

  it('server-side apply rejects them while typing the applied object', async () => {
    const f = k.file('typo-ssa.yaml', CM('bogus: 1\nspec: {a: 1}\n'));
    const r = await k.run(['apply', '--server-side', '-f', f]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'Error from server: failed to create typed patch object (default/typo; /v1, Kind=ConfigMap): errors:\n' +
        '  .bogus: field not declared in schema\n' +
        '  .spec: field not declared in schema',
    );
  });

  it('server-side apply names list items by their keys', async () => {
    const f = k.file(
      'typo-ssa-deploy.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  selector: {matchLabels: {app: t}}
  template:
    metadata: {labels: {app: t}}
    spec:
      containers:
      - {name: c, image: busybox, imagee: x}
`,
    );
    const r = await k.run(['apply', '--server-side', '-f', f]);
    assert.equal(
      r.stderr.trim(),
      'Error from server: failed to create typed patch object (default/typo; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="c"].imagee: field not declared in schema',
    );
  });
});

describe('immutable fields', () => {
  it("a Service's cluster IP may not change once set", async () => {
    await k.ok(['create', 'service', 'clusterip', 'fixed', '--tcp=80:8080']);
    const r = await k.run(['patch', 'svc', 'fixed', '-p', '{"spec":{"clusterIP":"10.43.99.99"}}']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'The Service "fixed" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.43.99.99"}: may not change once set',
    );
  });

  it("a Deployment's selector is printed as Go prints a LabelSelector", async () => {
    await k.ok(['create', 'deployment', 'sel', '--image=busybox']);
    const r = await k.run([
      'patch',
      'deploy',
      'sel',
      '-p',
      '{"spec":{"selector":{"matchLabels":{"app":"z"}},"template":{"metadata":{"labels":{"app":"z"}}}}}',
    ]);
    assert.equal(
      r.stderr.trim(),
      'The Deployment "sel" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"z"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });
});

describe('api-resources', () => {
  it('lists only what a 1.32 server serves', async () => {
    const out = await k.ok(['api-resources', '-o', 'name']);
    for (const later of [
      'ipaddresses.networking.k8s.io',
      'servicecidrs.networking.k8s.io',
      'volumeattributesclasses.storage.k8s.io',
      'mutatingadmissionpolicies.admissionregistration.k8s.io',
    ]) {
      assert.ok(!out.split('\n').includes(later), `${later} is not served by 1.32`);
    }
    assert.ok(out.split('\n').includes('validatingadmissionpolicies.admissionregistration.k8s.io'));
  });
});
