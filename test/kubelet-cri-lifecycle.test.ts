// What a kubectl user meets on the cri runtime (a private containerd, through the real
// kubectl): `run -i --rm` prints a short command's output (from the logs when the container
// exited before the attach reached it) and a longer one's through attach; a container's
// command is PID 1 of its own PID namespace, so one that ignores SIGTERM keeps its pod
// Terminating for the whole grace period before SIGKILL; and image events pair Pulling
// with Pulled as upstream's image manager records them.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import type { Kubectl } from './helpers/kubectl.js';
import { type CriNode, startCriNode } from './helpers/kubelet-node.js';
import { untilWithin } from './helpers/wait.js';

const NODE = 'kubelet-cri-lifecycle';
const IMAGE = 'kts.local/busybox:latest';
const until = untilWithin(20_000);
let node: CriNode | undefined;
let kubectl: Kubectl;
let client: RestClient;

function runArgs(name: string, command: string[]): string[] {
  return [
    'run',
    name,
    '-i',
    '--rm',
    '--restart=Never',
    `--image=${IMAGE}`,
    '--image-pull-policy=IfNotPresent',
    `--overrides=${JSON.stringify({ spec: { nodeName: NODE, terminationGracePeriodSeconds: 1 } })}`,
    '--',
    ...command,
  ];
}

function pod(name: string, container: NonNullable<Pod['spec']>['containers'][number], grace?: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: NODE,
      restartPolicy: 'Never',
      containers: [container],
      ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
    },
  };
}

async function ready(name: string): Promise<void> {
  await kubectl.ok(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=30s']);
}

async function eventsOf(name: string): Promise<string[]> {
  const out = await kubectl.ok([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((l) => l !== '');
}

describe('kubelet on the cri runtime: run -i, graceful deletion, image events', { timeout: 90_000 }, () => {
  before(async () => {
    node = await startCriNode('kubelet-cri-lifecycle', NODE, { cidrOctet: 92 });
    ({ kubectl, client } = node);
  });

  after(async () => {
    await node?.stop();
  });

  it('kubectl run -i --rm prints the output of a command that exits at once', async () => {
    for (const i of [1, 2]) {
      const r = await kubectl.run(runArgs(`quick-${i}`, ['echo', `hi-${i}`]));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^hi-${i}$`, 'm'), `run ${i}: ${r.stdout} / ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`pod "quick-${i}" deleted`));
      if (/couldn't attach/.test(r.stderr))
        assert.match(r.stderr, new RegExp(`container quick-${i} not found in pod quick-${i}_default`));
    }
  });

  it('kubectl run -i --rm of a longer command prints its output through attach', async () => {
    const r = await kubectl.run(runArgs('slow', ['sh', '-c', 'sleep 1; echo hi']));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hi$/m);
    assert.doesNotMatch(r.stderr, /couldn't attach/);
  });

  it('waits out the grace period for a PID 1 that ignores SIGTERM, Terminating meanwhile', async () => {
    await client
      .resource(PODS)
      .create('default', pod('stubborn', { name: 'c', image: IMAGE, command: ['sleep', '3600'] }));
    await ready('stubborn');
    // The command is PID 1 of the container's own PID namespace (not the sandbox's).
    const ps = await kubectl.ok(['exec', 'stubborn', '--', 'cat', '/proc/1/cmdline']);
    assert.equal(ps.replace(/\0/g, ' ').trim(), 'sleep 3600');
    const t0 = Date.now();
    const deletion = kubectl.run(['delete', 'pod', 'stubborn', '--grace-period=2']);
    const during = await until('Terminating', async () => {
      const o = await kubectl.ok(['get', 'pod', 'stubborn', '--no-headers']);
      return /\sTerminating\s/.test(o) ? o : undefined;
    });
    assert.match(during, /^stubborn\s+1\/1\s+Terminating\s/);
    const r = await deletion;
    const took = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(took >= 1900 && took < 7000, `deletion took ${took} ms`);
    const events = await eventsOf('stubborn');
    assert.ok(events.includes('Normal Killing Stopping container c'), events.join('\n'));
  });

  it('records Pulling then Pulled, or Pulled "already present" for IfNotPresent', async () => {
    await client
      .resource(PODS)
      .create('default', pod('pull-always', { name: 'c', image: IMAGE, command: ['true'] }));
    await client
      .resource(PODS)
      .create(
        'default',
        pod('pull-present', { name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['true'] }),
      );
    const always = await until('Pulled event', async () => {
      const ev = await eventsOf('pull-always');
      return ev.some((e) => e.includes('Started')) ? ev : undefined;
    });
    const pulling = always.indexOf(`Normal Pulling Pulling image "${IMAGE}"`);
    const pulled = always.findIndex((e) =>
      new RegExp(
        `^Normal Pulled Successfully pulled image "${IMAGE.replace(/\./g, '\\.')}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: [1-9]\\d* bytes\\.$`,
      ).test(e),
    );
    assert.ok(pulling >= 0 && pulled > pulling, always.join('\n'));
    const present = await until('Pulled event', async () => {
      const ev = await eventsOf('pull-present');
      return ev.some((e) => e.includes('Started')) ? ev : undefined;
    });
    assert.ok(
      present.includes(`Normal Pulled Container image "${IMAGE}" already present on machine`),
      present.join('\n'),
    );
    assert.ok(!present.some((e) => e.includes('Pulling')), present.join('\n'));
  });
});
