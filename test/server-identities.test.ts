// The per-component identities `kts server` issues from the cluster CA (their subjects,
// reuse across restarts, re-issue on a node rename) and its flag parsers for node taints
// and labels.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ensureClusterPKI } from '../src/pki/cluster-pki.js';
import { issueComponentIdentities } from '../src/server/identities.js';
import { parseLabel, parseTaint } from '../src/server/server.js';

const dir = mkdtempSync(join(tmpdir(), 'kts-identities-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('component identities', () => {
  const pki = ensureClusterPKI(dir);
  const issue = (nodeName: string) =>
    issueComponentIdentities({ dataDir: dir, server: 'https://127.0.0.1:6443', ca: pki.ca, nodeName });

  it('issues one client certificate per component with the upstream subject', () => {
    const ids = issue('n1');
    const table: Array<[string, string]> = [
      ['controller-manager', 'CN=system:kube-controller-manager'],
      ['scheduler', 'CN=system:kube-scheduler'],
      ['kubelet', 'O=system:nodes\nCN=system:node:n1'],
      ['proxy', 'CN=system:kube-proxy'],
    ];
    for (const [component, subject] of table) {
      const id = ids.get(component as 'proxy');
      assert.ok(id, component);
      const cert = new X509Certificate(readFileSync(id.certFile));
      assert.equal(cert.subject, subject);
      assert.ok(cert.checkIssued(new X509Certificate(pki.ca.certPem)));
      assert.equal(id.kubeconfigPath, join(dir, 'cred', `${component}.kubeconfig`));
      const kc = parse(readFileSync(id.kubeconfigPath, 'utf8')) as {
        clusters: Array<{ cluster: { server: string } }>;
      };
      assert.equal(kc.clusters[0]?.cluster.server, 'https://127.0.0.1:6443');
    }
  });

  it('reuses certificates across restarts and re-issues the kubelet one for a new node name', () => {
    const before = issue('n1');
    const again = issue('n1');
    const read = (m: typeof before, c: 'scheduler' | 'kubelet') =>
      readFileSync(m.get(c)?.certFile ?? '', 'utf8');
    assert.equal(read(again, 'scheduler'), read(before, 'scheduler'));
    const kubeletN1 = read(again, 'kubelet');
    const renamed = issue('n2');
    assert.notEqual(read(renamed, 'kubelet'), kubeletN1);
    assert.equal(new X509Certificate(read(renamed, 'kubelet')).subject, 'O=system:nodes\nCN=system:node:n2');
  });
});

describe('node flag parsers', () => {
  it('parses taints as key[=value]:Effect', () => {
    assert.deepEqual(parseTaint('a=b:NoSchedule'), { key: 'a', value: 'b', effect: 'NoSchedule' });
    assert.deepEqual(parseTaint('dedicated:NoExecute'), { key: 'dedicated', effect: 'NoExecute' });
    assert.throws(() => parseTaint('a=b'), /want key\[=value\]:Effect/);
    assert.throws(() => parseTaint('a=b:Sometimes'), /invalid taint effect "Sometimes"/);
  });

  it('parses labels as key=value', () => {
    assert.deepEqual(parseLabel('a/b=c=d'), ['a/b', 'c=d']);
    assert.throws(() => parseLabel('novalue'), /want key=value/);
  });
});
