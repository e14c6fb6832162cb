// RBAC end to end with the real kubectl: a service account bound to `view` can list but not
// delete pods (403 with upstream's message), cannot read secrets, cannot escalate by
// creating a role with more rights or by binding cluster-admin, and `auth can-i --list`
// answers as upstream; `--as` impersonation, issuer discovery and TokenReview likewise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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

  it('impersonates with --as for those allowed to, and refuses the others', async () => {
    const canI = async (verb: string, res: string) =>
      (await admin.run(['auth', 'can-i', verb, res, `--as=${SA}`])).stdout.trim();
    assert.equal(await canI('list', 'pods'), 'yes');
    assert.equal(await canI('create', 'pods'), 'no');
    assert.equal(await canI('get', 'secrets'), 'no');
    const del = await admin.run(['delete', 'pod', 'nope', `--as=${SA}`]);
    assert.equal(
      del.stderr.trim(),
      `Error from server (Forbidden): pods "nope" is forbidden: User "${SA}" cannot delete resource "pods" in API group "" in the namespace "default"`,
    );
    const who = await admin.ok(['auth', 'whoami', '--as=jane', '--as-group=devs', '-o', 'json']);
    assert.deepEqual((JSON.parse(who) as { status: unknown }).status, {
      userInfo: { username: 'jane', groups: ['devs', 'system:authenticated'] },
    });
    const sa = await admin.ok(['auth', 'whoami', `--as=${SA}`, '-o', 'json']);
    assert.deepEqual((JSON.parse(sa) as { status: unknown }).status, {
      userInfo: {
        username: SA,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      },
    });
    const list = await admin.ok(['auth', 'can-i', '--list', `--as=${SA}`]);
    assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.doesNotMatch(list, /^\*\.\*/m);
    const user = await viewer.run(['get', 'pods', '--as=jane']);
    assert.equal(
      user.stderr.trim(),
      `Error from server (Forbidden): users "jane" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`,
    );
    const other = await viewer.run(['get', 'pods', '--as=system:serviceaccount:default:other']);
    assert.equal(
      other.stderr.trim(),
      `Error from server (Forbidden): serviceaccounts "other" is forbidden: User "${SA}" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "default"`,
    );
  });

  it('lets service accounts read the issuer discovery documents, with or without a trailing slash', async () => {
    for (const path of ['/.well-known/openid-configuration', '/openid/v1/jwks/']) {
      const r = await viewer.run(['get', '--raw', path]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it('answers anonymous curl as upstream: indented 403 Status, public health and version', async () => {
    const curl = (path: string) =>
      new Promise<{ code: string; body: string }>((resolve, reject) => {
        execFile('curl', ['-sk', '-w', '\n%{http_code}', `${api.server.url}${path}`], (err, stdout) => {
          if (err) reject(err);
          const i = stdout.lastIndexOf('\n');
          resolve({ body: stdout.slice(0, i), code: stdout.slice(i + 1) });
        });
      });
    const denied = await curl('/api/v1/namespaces');
    assert.equal(denied.code, '403');
    assert.equal(
      denied.body,
      [
        '{',
        '  "kind": "Status",',
        '  "apiVersion": "v1",',
        '  "metadata": {},',
        '  "status": "Failure",',
        '  "message": "namespaces is forbidden: User \\"system:anonymous\\" cannot list resource \\"namespaces\\" in API group \\"\\" at the cluster scope",',
        '  "reason": "Forbidden",',
        '  "details": {',
        '    "kind": "namespaces"',
        '  },',
        '  "code": 403',
        '}',
      ].join('\n'),
    );
    for (const path of ['/healthz', '/readyz', '/livez'])
      assert.deepEqual(await curl(path), { code: '200', body: 'ok' });
    const version = await curl('/version');
    assert.equal(version.code, '200');
    assert.ok(version.body.startsWith('{\n  "major": "1",\n  "minor": "32",\n'), version.body);
  });

  it('answers TokenReviews as upstream', async () => {
    const token = (await admin.ok(['create', 'token', 'viewer'])).trim();
    const review = (t: string) =>
      `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":${JSON.stringify(t)}}}`;
    const ok = JSON.parse(await admin.ok(['create', '-f', '-', '-o', 'json'], { stdin: review(token) })) as {
      status: {
        authenticated?: boolean;
        user: { username?: string; groups?: string[] };
        audiences?: string[];
      };
    };
    assert.equal(ok.status.authenticated, true);
    assert.equal(ok.status.user.username, SA);
    assert.deepEqual(ok.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
    // A token no authenticator knows: authenticated and error are omitted (omitempty upstream).
    const bogus = JSON.parse(
      await admin.ok(['create', '-f', '-', '-o', 'json'], { stdin: review('bogus') }),
    ) as {
      status: unknown;
    };
    assert.deepEqual(bogus.status, { user: {} });
    const empty = await admin.run(['create', '-f', '-'], { stdin: review('') });
    assert.match(empty.stderr, /token is required for TokenReview in authentication/);
  });
});
