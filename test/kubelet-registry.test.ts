// The real image pull path: Debian's docker-registry on loopback (one open, one behind
// htpasswd basic auth), kts's busybox image pushed to both by the test's own OCI
// distribution client, and a kubelet on the cri runtime (private containerd, which speaks
// plain HTTP to loopback registries) pulling from them. Driven with the real kubectl:
// pull policies, imagePullSecrets (kubernetes.io/dockerconfigjson), and ErrImagePull /
// ImagePullBackOff with upstream's events. Pods use the host network, so no CNI is needed.
// Everything is removed by name or pid: registries, containerd root and shims, cgroups.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../src/api/generated/types/core-v1.js';
import { PODS } from '../src/client/resources.js';
import type { RestClient } from '../src/client/rest-client.js';
import { Kubelet } from '../src/kubelet/kubelet.js';
import {
  type ContainerdDaemon,
  cleanupContainerdRoot,
  containerdMissing,
  startContainerd,
} from '../src/kubelet/runtime/containerd-daemon.js';
import { CriRuntime } from '../src/kubelet/runtime/cri/cri-runtime.js';
import { busyboxImage } from '../src/kubelet/runtime/images/build-image.js';
import { ensureBuiltinImages } from '../src/kubelet/runtime/images/import.js';
import type { Kubectl } from './helpers/kubectl.js';
import { removeTestCgroups, startTestCluster, type TestCluster } from './helpers/kubelet-node.js';
import { pushImage, registryMissing, startTestRegistry, type TestRegistry } from './helpers/oci-registry.js';
import { until } from './helpers/wait.js';

const NODE = 'kubelet-registry-node';
const CGROUP_ROOT = `/kts-registry-test-${randomBytes(3).toString('hex')}`;
let cluster: TestCluster | undefined;
let kubectl: Kubectl;
let client: RestClient;
let daemon: ContainerdDaemon | undefined;
let runtime: CriRuntime | undefined;
let kubelet: Kubelet | undefined;
let open: TestRegistry | undefined;
let locked: TestRegistry | undefined;
const watches: AbortController[] = [];

function pod(name: string, image: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: NODE,
      hostNetwork: true,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image,
          imagePullPolicy: 'Always',
          command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
        },
      ],
      ...extra,
    },
  };
}

/**
 * Creates the pod and records every waiting state its first container goes through (by
 * watch: ErrImagePull may last only until the next sync, too briefly for polling).
 */
async function createWatched(p: Pod): Promise<{ waiting: { reason: string; message: string }[] }> {
  const created = await client.resource(PODS).create('default', p);
  const seen: { reason: string; message: string }[] = [];
  const ac = new AbortController();
  watches.push(ac);
  void (async () => {
    const events = client.resource(PODS).watch('default', {
      fieldSelector: `metadata.name=${p.metadata?.name}`,
      resourceVersion: created.metadata?.resourceVersion ?? '0',
      signal: ac.signal,
    });
    for await (const ev of events) {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
      const w = ev.object.status?.containerStatuses?.[0]?.state?.waiting;
      const last = seen.at(-1);
      if (w?.reason !== undefined && (last?.reason !== w.reason || last.message !== w.message))
        seen.push({ reason: w.reason, message: w.message ?? '' });
    }
  })().catch(() => {});
  return { waiting: seen };
}

/** The message of the first waiting state with `reason` the watched pod went through. */
function waitingFor(w: { waiting: { reason: string; message: string }[] }, reason: string): Promise<string> {
  return until(
    `waiting reason ${reason}`,
    async () => w.waiting.find((x) => x.reason === reason)?.message,
    20_000,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; seen ${w.waiting.map((x) => x.reason).join(', ')}`);
  });
}

/** `TYPE REASON MESSAGE` of the pod's events, oldest first. */
async function eventsOf(name: string): Promise<string[]> {
  const out = await kubectl.ok([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '--sort-by=.metadata.creationTimestamp',
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((l) => l !== '');
}

async function podStatusColumn(name: string): Promise<string> {
  const line = await kubectl.ok(['get', 'pod', name, '--no-headers']);
  return line.trim().split(/\s+/)[2] ?? '';
}

describe('kubelet pulls images from a registry on loopback', { timeout: 90_000 }, () => {
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('kubelet-registry tests need root (containerd)');
    const missing = containerdMissing() ?? registryMissing();
    if (missing !== undefined) throw new Error(missing);
    cluster = await startTestCluster('kubelet-registry', { rootCA: true });
    ({ kubectl, client } = cluster);
    const image = busyboxImage();
    [open, locked] = await Promise.all([startTestRegistry(), startTestRegistry({ htpasswd: true })]);
    await Promise.all([
      pushImage(open, image, 'busybox', '1'),
      pushImage(locked, image, 'private/busybox', '1'),
    ]);
    daemon = await startContainerd({ rootDir: join(cluster.dir, 'containerd') });
    await ensureBuiltinImages({ socket: daemon.socket });
    runtime = new CriRuntime({ endpoint: daemon.endpoint });
    kubelet = new Kubelet({
      client,
      nodeName: NODE,
      runtime,
      dataDir: join(cluster.dir, 'kubelet'),
      cgroupRoot: CGROUP_ROOT,
      relistMs: 300,
      statusUpdateMs: 500,
    });
    await kubelet.start();
  });

  after(async () => {
    for (const w of watches) w.abort();
    try {
      await kubelet?.stop();
      if (runtime !== undefined) {
        for (const s of await runtime.listPodSandbox().catch(() => [])) {
          await runtime.stopPodSandbox(s.id).catch(() => {});
          await runtime.removePodSandbox(s.id).catch(() => {});
        }
        await runtime.close();
      }
      await daemon?.stop();
    } finally {
      if (cluster !== undefined) cleanupContainerdRoot(join(cluster.dir, 'containerd'));
      removeTestCgroups(CGROUP_ROOT);
      await open?.stop();
      await locked?.stop();
      await cluster?.stop();
    }
  });

  it('pulls a pushed image with imagePullPolicy Always and runs it', async () => {
    const image = `${open?.host}/busybox:1`;
    await client.resource(PODS).create('default', pod('pulled', image));
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/pulled', '--timeout=30s']);
    const p = await client.resource(PODS).get('default', 'pulled');
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.image, image);
    assert.match(cs?.imageID ?? '', /sha256:[0-9a-f]{64}$/);
    const events = await eventsOf('pulled');
    assert.ok(events.includes(`Normal Pulling Pulling image "${image}"`), events.join('\n'));
    assert.ok(
      events.some((e) =>
        new RegExp(
          `^Normal Pulled Successfully pulled image "${image.replace(/\./g, '\\.')}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: \\d+ bytes\\.$`,
        ).test(e),
      ),
      events.join('\n'),
    );
  });

  it('shows ErrImagePull, then ImagePullBackOff, for a tag the registry lacks', async () => {
    const image = `${open?.host}/busybox:absent`;
    const w = await createWatched(pod('absent', image));
    const pullMsg = await waitingFor(w, 'ErrImagePull');
    assert.match(
      pullMsg,
      new RegExp(
        `^rpc error: code = NotFound desc = failed to pull and unpack image "${image.replace(/\./g, '\\.')}": .*not found$`,
      ),
    );
    const backoffMsg = await waitingFor(w, 'ImagePullBackOff');
    assert.equal(backoffMsg, `Back-off pulling image "${image}": ErrImagePull: ${pullMsg}`);
    assert.equal(await podStatusColumn('absent'), 'ImagePullBackOff');
    const events = await until('the BackOff event', async () => {
      const ev = await eventsOf('absent');
      return ev.some((e) => e.startsWith('Normal BackOff ')) ? ev : undefined;
    });
    for (const want of [
      `Normal Pulling Pulling image "${image}"`,
      `Warning Failed Failed to pull image "${image}": ${pullMsg}`,
      'Warning Failed Error: ErrImagePull',
      `Normal BackOff Back-off pulling image "${image}"`,
      'Warning Failed Error: ImagePullBackOff',
    ])
      assert.ok(events.includes(want), `missing event ${want}:\n${events.join('\n')}`);
    const p = await client.resource(PODS).get('default', 'absent');
    assert.equal(p.status?.phase, 'Pending');
  });

  it('reports ErrImageNeverPull for an absent image with pull policy Never', async () => {
    const image = `${open?.host}/busybox:never`;
    const p = pod('never', image);
    const c = p.spec?.containers[0];
    if (c !== undefined) c.imagePullPolicy = 'Never';
    const msg = await waitingFor(await createWatched(p), 'ErrImageNeverPull');
    assert.equal(msg, `Container image "${image}" is not present with pull policy of Never`);
    assert.equal(await podStatusColumn('never'), 'ErrImageNeverPull');
  });

  it('pulls from a registry with basic auth only with a dockerconfigjson imagePullSecret', async () => {
    const image = `${locked?.host}/private/busybox:1`;
    const w = await createWatched(pod('nosecret', image));
    const denied = await waitingFor(w, 'ErrImagePull');
    assert.match(denied, /401 Unauthorized/);
    // ErrImagePull shows for a moment, then ImagePullBackOff until the backoff runs out.
    assert.match(await podStatusColumn('nosecret'), /^(ErrImagePull|ImagePullBackOff)$/);

    await kubectl.ok([
      'create',
      'secret',
      'docker-registry',
      'regcred',
      `--docker-server=${locked?.host}`,
      `--docker-username=${locked?.auth?.username}`,
      `--docker-password=${locked?.auth?.password}`,
    ]);
    await client
      .resource(PODS)
      .create('default', pod('withsecret', image, { imagePullSecrets: [{ name: 'regcred' }] }));
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/withsecret', '--timeout=30s']);
    const ev = await eventsOf('withsecret');
    assert.ok(
      ev.some((e) => e.startsWith('Normal Pulled Successfully pulled image')),
      ev.join('\n'),
    );
  });
});
