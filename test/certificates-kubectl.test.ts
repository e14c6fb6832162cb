// Token authentication and the CSR flow through the real kubectl: a static token file user
// and a bootstrap token are who `kubectl auth whoami` says; a wrong token is 401; a user CSR
// approved with `kubectl certificate approve` is signed by csrsigning and works as a client
// certificate; `kubectl certificate deny` leaves a CSR without one; a kubelet client CSR made
// with a bootstrap token is auto-approved by csrapproving.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiServer, startApiServer } from '../src/apiserver/server.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient } from '../src/client/rest-client.js';
import {
  CSRS,
  createCertificateRequest,
  csrSigningControllerFactory,
  newCSRApprovingController,
} from '../src/controllers/certificates/index.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { ensureClusterPKI } from '../src/pki/cluster-pki.js';
import { writeKubeconfig } from '../src/pki/kubeconfig.js';
import { generateKey } from '../src/pki/x509.js';
import { discoverCluster } from '../src/agent/discovery.js';
import { loadNodeCredentials, requestNodeCertificate } from '../src/agent/tls-bootstrap.js';
import { realClock } from '../src/client/clock.js';
import { formatJoinToken, parseJoinToken, publishJoinInfo } from '../src/server/join-token.js';
import { Kubectl } from './helpers/kubectl.js';

describe('tokens and certificates with kubectl', { timeout: 60_000 }, () => {
  let dir: string;
  let api: ApiServer;
  let admin: RestClient;
  let kubectl: Kubectl;
  const ac = new AbortController();
  let done: Promise<void>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-certs-'));
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, 'static-token-1,alice,1001,"dev,ops"\n');
    api = await startApiServer({
      dataDir: dir,
      httpsPort: 0,
      bindAddress: '127.0.0.1',
      datastoreEndpoint: 'memory://',
      tokenAuthFile: tokenFile,
    });
    admin = new RestClient(loadKubeconfig(api.kubeconfigPath));
    const pki = ensureClusterPKI(dir);
    await publishJoinInfo(admin, { id: 'abcdef', secret: '0123456789abcdef' }, api.url, pki.ca.certPem);
    const manager = new ControllerManager({
      client: admin,
      registry: [
        { name: 'csrsigning', factory: csrSigningControllerFactory(pki.ca) },
        { name: 'csrapproving', factory: newCSRApprovingController },
      ],
    });
    done = manager.run(ac.signal);
    kubectl = new Kubectl(api.kubeconfigPath);
  });

  after(async () => {
    ac.abort();
    await done;
    admin.close();
    kubectl.cleanup();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates token-file and bootstrap tokens; refuses a wrong one', async () => {
    const alice = await kubectl.ok([
      '--token',
      'static-token-1',
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username} {.status.userInfo.groups}',
    ]);
    assert.equal(alice, 'alice ["dev","ops","system:authenticated"]');
    const boot = await kubectl.ok([
      '--token',
      'abcdef.0123456789abcdef',
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username} {.status.userInfo.groups}',
    ]);
    assert.equal(
      boot,
      'system:bootstrap:abcdef ["system:bootstrappers","system:bootstrappers:kts:default-node-token","system:authenticated"]',
    );
    const bad = await kubectl.run(['--token', 'abcdef.0123456789abcdee', 'auth', 'whoami']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Unauthorized/);
  });

  it('discovery reads cluster-info anonymously and checks the token and CA hash', async () => {
    const ca = ensureClusterPKI(dir).ca.certPem;
    const warnings: string[] = [];
    const warn = (m: string): void => {
      warnings.push(m);
    };
    const full = parseJoinToken(formatJoinToken({ id: 'abcdef', secret: '0123456789abcdef' }, ca));
    const info = await discoverCluster(api.url, full, warn);
    assert.equal(info.caPem, ca);
    assert.deepEqual(warnings, []);
    await discoverCluster(api.url, { id: 'abcdef', secret: '0123456789abcdef' }, warn);
    assert.equal(warnings.length, 1);
    await assert.rejects(
      discoverCluster(api.url, { id: 'abcdef', secret: '0123456789abcdee' }, () => {}),
      /the token is not valid: failed to verify JWS signature/,
    );
    await assert.rejects(
      discoverCluster(api.url, { id: 'zzzzzz', secret: '0123456789abcdef' }, () => {}),
      /token id "zzzzzz" is invalid for this cluster/,
    );
    await assert.rejects(
      discoverCluster(api.url, { ...full, caHash: '0'.repeat(64) }, () => {}),
      /cluster CA found in cluster-info ConfigMap is invalid/,
    );
  });

  it('approve issues a working client certificate; deny issues none', async () => {
    const key = generateKey();
    const req = createCertificateRequest({ commonName: 'carol', organizations: ['qa'] }, key);
    const csr = (name: string) =>
      JSON.stringify({
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name },
        spec: {
          request: Buffer.from(req).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['client auth'],
          expirationSeconds: 3600,
        },
      });
    await kubectl.ok(['create', '-f', kubectl.file('c1.json', csr('carol'))]);
    await kubectl.ok(['create', '-f', kubectl.file('c2.json', csr('dave'))]);
    await kubectl.ok(['certificate', 'approve', 'carol']);
    await kubectl.ok(['certificate', 'deny', 'dave']);
    let certB64 = '';
    for (let i = 0; i < 100 && certB64 === ''; i++) {
      certB64 = (await admin.resource(CSRS).get('', 'carol')).status?.certificate ?? '';
      if (certB64 === '') await new Promise((r) => setTimeout(r, 100));
    }
    assert.notEqual(certB64, '');
    const list = await kubectl.ok(['get', 'csr']);
    assert.match(
      list,
      /carol\s+\S+\s+kubernetes.io\/kube-apiserver-client\s+system:admin\s+60m\s+Approved,Issued/,
    );
    assert.match(list, /dave\s+.*Denied/);
    assert.equal((await admin.resource(CSRS).get('', 'dave')).status?.certificate, undefined);
    const kc = join(dir, 'carol.kubeconfig');
    writeKubeconfig(kc, {
      server: api.url,
      caPem: ensureClusterPKI(dir).ca.certPem,
      clientCertPem: Buffer.from(certB64, 'base64').toString('utf8'),
      clientKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    const who = await new Kubectl(kc).ok([
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username} {.status.userInfo.groups}',
    ]);
    assert.equal(who, 'carol ["qa","system:authenticated"]');
  });

  it('auto-approves a kubelet client CSR made with a bootstrap token', async () => {
    const boot = new RestClient({
      server: api.url,
      caData: ensureClusterPKI(dir).ca.certPem,
      token: 'abcdef.0123456789abcdef',
    });
    const req = createCertificateRequest(
      { commonName: 'system:node:n9', organizations: ['system:nodes'] },
      generateKey(),
    );
    await boot.resource(CSRS).create('', {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'node-csr-n9' },
      spec: {
        request: Buffer.from(req).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'client auth'],
      },
    });
    let cert = '';
    for (let i = 0; i < 100 && cert === ''; i++) {
      cert = (await boot.resource(CSRS).get('', 'node-csr-n9')).status?.certificate ?? '';
      if (cert === '') await new Promise((r) => setTimeout(r, 100));
    }
    boot.close();
    assert.notEqual(cert, '');
    const got = await admin.resource(CSRS).get('', 'node-csr-n9');
    const cond = got.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(cond?.reason, 'AutoApproved');
    assert.equal(cond?.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
    assert.equal(got.spec?.username, 'system:bootstrap:abcdef');
  });

  it('TLS bootstrap writes kubelet.kubeconfig and renews with the node certificate', async () => {
    const ca = ensureClusterPKI(dir).ca.certPem;
    const nodeDir = join(dir, 'node1');
    const common = { server: api.url, caPem: ca, nodeName: 'node1', dataDir: nodeDir, clock: realClock };
    mkdirSync(nodeDir, { recursive: true });
    const first = await requestNodeCertificate({ ...common, auth: { token: 'abcdef.0123456789abcdef' } });
    assert.ok(loadNodeCredentials(nodeDir, 'node1', ca, Date.now()));
    assert.equal(loadNodeCredentials(nodeDir, 'other', ca, Date.now()), undefined);
    const who = await new Kubectl(first.kubeconfigPath).ok([
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username}',
    ]);
    assert.equal(who, 'system:node:node1');
    const renewed = await requestNodeCertificate({
      ...common,
      auth: { certPem: first.certPem, keyPem: first.keyPem },
    });
    assert.notEqual(renewed.certPem, first.certPem);
    const csrs = await admin.resource(CSRS).list('');
    const self = csrs.items.find((c) => c.spec?.username === 'system:node:node1');
    assert.equal(
      self?.status?.conditions?.[0]?.message,
      'Auto approving self kubelet client certificate after SubjectAccessReview.',
    );
    await assert.rejects(
      requestNodeCertificate({ ...common, auth: { token: 'abcdef.0123456789abcdee' } }),
      /the token is not valid/,
    );
  });
});
