import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  defaultKubeconfigPath,
  inClusterConfig,
  KubeconfigError,
  loadKubeconfig,
  parseKubeconfig,
} from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kts-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('kubeconfig', () => {
  it('resolves the current context with embedded data', () => {
    const cfg = parseKubeconfig(
      `apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: team}
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority-data: ${b64('CA')}}
users:
- name: u
  user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}, token: tok}
`,
      dir,
    );
    assert.deepEqual(cfg, {
      server: 'https://127.0.0.1:6443',
      namespace: 'team',
      caData: 'CA',
      certData: 'CERT',
      keyData: 'KEY',
      token: 'tok',
    });
  });

  it('reads files relative to the kubeconfig folder; context override; insecure', () => {
    writeFileSync(join(dir, 'ca.crt'), 'CAFILE');
    writeFileSync(join(dir, 'token'), 'T');
    const path = join(dir, 'config');
    writeFileSync(
      path,
      `current-context: a
contexts:
- {name: a, context: {cluster: c1, user: u1}}
- {name: b, context: {cluster: c2, user: u2}}
clusters:
- {name: c1, cluster: {server: "https://one", certificate-authority: ca.crt}}
- {name: c2, cluster: {server: "https://two", insecure-skip-tls-verify: true}}
users:
- {name: u1, user: {token-file: token}}
- {name: u2, user: {}}
`,
    );
    const a = loadKubeconfig(path);
    assert.equal(a.caData, 'CAFILE');
    assert.equal(a.tokenFile, join(dir, 'token'));
    const b = loadKubeconfig(path, { context: 'b' });
    assert.equal(b.server, 'https://two');
    assert.equal(b.insecureSkipTLSVerify, true);
    assert.throws(() => loadKubeconfig(path, { context: 'zz' }), KubeconfigError);
  });

  it('default path honours KUBECONFIG', () => {
    assert.equal(defaultKubeconfigPath({ KUBECONFIG: `/x/a${':'}/x/b` }), '/x/a');
    assert.equal(defaultKubeconfigPath({ HOME: '/home/u' }), '/home/u/.kube/config');
  });

  it('in-cluster config from the service account mount', () => {
    const sa = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(sa, 'token'), 'jwt');
    writeFileSync(join(sa, 'ca.crt'), 'CA');
    writeFileSync(join(sa, 'namespace'), 'kube-system\n');
    const cfg = inClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: sa,
    });
    assert.deepEqual(cfg, {
      server: 'https://[fd00::1]:443',
      tokenFile: join(sa, 'token'),
      caData: 'CA',
      namespace: 'kube-system',
    });
    assert.throws(() => inClusterConfig({ env: {}, serviceAccountDir: sa }), /must be defined/);
  });
});
