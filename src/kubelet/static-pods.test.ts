import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noopLogger } from '../client/log.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import {
  CONFIG_HASH_ANNOTATION,
  CONFIG_MIRROR_ANNOTATION,
  CONFIG_SEEN_ANNOTATION,
  CONFIG_SOURCE_ANNOTATION,
  isMirrorPod,
  isStaticPod,
  ManifestError,
  mirrorPodFor,
  parseManifest,
  StaticPodSource,
} from './static-pods.js';

const YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
`;

describe('static pods', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('defaults a manifest as upstream applyDefaults does', () => {
    const [p] = parseManifest(YAML, '/etc/manifests/web.yaml', 'Node-A');
    assert.ok(p !== undefined);
    assert.equal(p.metadata?.name, 'web-node-a');
    assert.equal(p.metadata?.namespace, 'default');
    assert.equal(p.spec?.nodeName, 'Node-A');
    assert.match(p.metadata?.uid ?? '', /^[0-9a-f]{32}$/);
    assert.equal(p.metadata?.annotations?.[CONFIG_HASH_ANNOTATION], p.metadata?.uid);
    assert.equal(p.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION], 'file');
    assert.deepEqual(p.spec?.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    assert.equal(p.spec?.restartPolicy, 'Always');
    assert.equal(p.status?.phase, 'Pending');
    assert.ok(isStaticPod(p));
    assert.ok(!isMirrorPod(p));
  });

  it('derives the uid from content, node and file', () => {
    const uid = (text: string, file: string, node: string): string =>
      parseManifest(text, file, node)[0]?.metadata?.uid ?? '';
    const base = uid(YAML, '/m/web.yaml', 'n1');
    assert.equal(uid(YAML, '/m/web.yaml', 'n1'), base);
    assert.notEqual(uid(YAML, '/m/other.yaml', 'n1'), base);
    assert.notEqual(uid(YAML, '/m/web.yaml', 'n2'), base);
    assert.notEqual(uid(YAML.replace('3600', '3601'), '/m/web.yaml', 'n1'), base);
  });

  it('reads JSON and pod lists and rejects what is not a pod', () => {
    const json = JSON.stringify({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'j', namespace: 'kube-system' },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    assert.equal(parseManifest(json, 'j.json', 'n')[0]?.metadata?.name, 'j-n');
    const list = {
      kind: 'PodList',
      apiVersion: 'v1',
      items: [JSON.parse(json), { ...JSON.parse(json), metadata: { name: 'k' } }],
    };
    assert.deepEqual(
      parseManifest(JSON.stringify(list), 'l.json', 'n').map((p) => p.metadata?.name),
      ['j-n', 'k-n'],
    );
    const bad: [string, RegExp][] = [
      ['kind: Service\napiVersion: v1\nmetadata: {name: s}', /kind "Service" is not a Pod/],
      [
        'kind: Pod\napiVersion: v1\nspec: {containers: [{name: c, image: i}]}',
        /name or generateName is required/,
      ],
      ['kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec: {}', /spec.containers: Required value/],
      ['- just\n- a list', /not an object/],
      ['{unclosed', /invalid pod/],
    ];
    for (const [text, re] of bad)
      assert.throws(
        () => parseManifest(text, 'f.yaml', 'n'),
        (e: unknown) => e instanceof ManifestError && re.test(e.message),
      );
  });

  it('builds the mirror pod owned by the node', () => {
    const [p] = parseManifest(YAML, '/m/web.yaml', 'n1');
    assert.ok(p !== undefined);
    const m = mirrorPodFor(p, 'n1', 'node-uid');
    assert.equal(m.metadata?.name, 'web-n1');
    assert.equal(m.metadata?.uid, undefined);
    assert.equal(m.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION], p.metadata?.uid);
    assert.equal(m.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION], 'file');
    assert.deepEqual(m.metadata?.ownerReferences, [
      { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true },
    ]);
    assert.deepEqual(m.metadata?.labels, { app: 'web' });
    assert.deepEqual(m.spec, p.spec);
    assert.ok(isMirrorPod(m));
  });

  it('scans a directory: manifests only, bad files skipped, first-seen time kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-static-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'web.yaml'), YAML);
    writeFileSync(join(dir, 'bad.yml'), 'kind: Pod\n');
    writeFileSync(join(dir, 'notes.txt'), YAML);
    writeFileSync(join(dir, '.web.yaml.swp'), YAML);
    const clock = new FakeClock(Date.UTC(2024, 0, 2, 3, 4, 5, 120));
    const changes: string[][] = [];
    const src = new StaticPodSource({
      dir,
      nodeName: 'n1',
      clock,
      logger: noopLogger,
      onChange: (pods) => changes.push(pods.map((p) => p.metadata?.name ?? '')),
    });
    const first = src.scan();
    assert.deepEqual(
      first.map((p) => p.metadata?.name),
      ['web-n1'],
    );
    assert.equal(first[0]?.metadata?.annotations?.[CONFIG_SEEN_ANNOTATION], '2024-01-02T03:04:05.12Z');
    clock.step(60_000);
    assert.equal(src.scan()[0]?.metadata?.annotations?.[CONFIG_SEEN_ANNOTATION], '2024-01-02T03:04:05.12Z');
    assert.equal(
      new StaticPodSource({
        dir: join(dir, 'missing'),
        nodeName: 'n',
        clock,
        logger: noopLogger,
        onChange: () => {},
      }).scan().length,
      0,
    );
  });
});
