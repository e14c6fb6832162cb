// RBAC end to end with the real kubectl: a service account bound to `view` can list but not
// delete pods (403 with upstream's message), cannot read secrets, cannot escalate by
// creating a role with more rights or by binding cluster-admin, and `auth can-i --list`
// answers as upstream.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let api: TestApiServer;
let admin: Kubectl;
let viewer: Kubectl;

const SA = 'system:serviceaccount:default:viewer';

// A kubeconfig for a bearer token: the admin kubeconfig's cluster, a token user.
function tokenKubeconfig(adminPath: string, token: string, out: string): string {
  const cfg = parse(readFileSync(adminPath, 'utf8')) as { clusters: Array<{ name: string }> } & Record<
    string,
    unknown
  >;
  const cluster = cfg.clusters[0]?.name ?? '';
  cfg.users = [{ name: 'viewer', user: { token } }];
  cfg.contexts = [{ name: 'viewer', context: { cluster, user: 'viewer', namespace: 'default' } }];
  cfg['current-context'] = 'viewer';
  writeFileSync(out, stringify(cfg));
  return out;
}

// Remove once server.ts wires RBAC (see the header).

describe('RBAC through kubectl', () => {
  before(async () => {
    api = await startTestApiServer();
    admin = new Kubectl(api.server.kubeconfigPath);
    await admin.ok(['create', 'serviceaccount', 'viewer']);
    await admin.ok([
      'create',
      'rolebinding',
      'viewer-view',
      '--clusterrole=view',
      '--serviceaccount=default:viewer',
    ]);
    const token = (await admin.ok(['create', 'token', 'viewer'])).trim();
    viewer = new Kubectl(
      tokenKubeconfig(api.server.kubeconfigPath, token, join(api.dataDir, 'viewer.kubeconfig')),
    );
  });
  after(async () => {
    admin?.cleanup();
    viewer?.cleanup();
    await api?.stop();
  });

  it('lists pods but may not delete them', async () => {
    const list = await viewer.run(['get', 'pods']);
    assert.equal(list.code, 0, list.stderr);
    const r = await viewer.run(['delete', 'pod', 'x']);
    assert.notEqual(r.code, 0);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): pods "x" is forbidden: User "${SA}" cannot delete resource "pods" in API group "" in the namespace "default"`,
    );
  });

  it('cannot read secrets', async () => {
    const r = await viewer.run(['get', 'secrets']);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): secrets is forbidden: User "${SA}" cannot list resource "secrets" in API group "" in the namespace "default"`,
    );
    assert.equal((await viewer.run(['auth', 'can-i', 'get', 'secrets'])).stdout.trim(), 'no');
    assert.equal((await viewer.run(['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'yes');
  });

  it('answers can-i --list as upstream', async () => {
    const out = await viewer.ok(['auth', 'can-i', '--list']);
    if (process.env.RBAC_SHOW) process.stderr.write(out);
    assert.match(out, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    assert.match(out, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(out, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    assert.doesNotMatch(out, /^secrets\s/m);
  });

  it('cannot escalate by creating a stronger role or binding cluster-admin', async () => {
    await admin.ok([
      'create',
      'role',
      'rbac-writer',
      '--verb=create',
      '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io',
    ]);
    await admin.ok([
      'create',
      'rolebinding',
      'viewer-rbac',
      '--role=rbac-writer',
      '--serviceaccount=default:viewer',
    ]);
    const role = await viewer.run(['create', 'role', 'pod-killer', '--verb=delete', '--resource=pods']);
    assert.match(
      role.stderr,
      /roles\.rbac\.authorization\.k8s\.io "pod-killer" is forbidden: user "system:serviceaccount:default:viewer" \(groups=\["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/,
    );
    const bind = await viewer.run([
      'create',
      'rolebinding',
      'grab',
      '--clusterrole=cluster-admin',
      '--serviceaccount=default:viewer',
    ]);
    assert.match(
      bind.stderr,
      /rolebindings\.rbac\.authorization\.k8s\.io "grab" is forbidden: user "system:serviceaccount:default:viewer"/,
    );
    await viewer.ok(['create', 'role', 'pod-reader', '--verb=get', '--resource=pods']);
  });

  it('keeps the admin (system:masters) all-powerful', async () => {
    assert.equal((await admin.run(['auth', 'can-i', '*', '*'])).stdout.trim(), 'yes');
  });
});
