import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod, Secret } from '../api/generated/types/core-v1.js';
import type { EventRecorder } from '../client/events.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import { ContainerLifecycle, WaitingError } from './container-lifecycle.js';
import { KubeletEvents } from './kubelet-events.js';
import { type AuthConfig, type ContainerRuntime, type Image, RuntimeError } from './runtime/runtime.js';

/** The image half of a runtime: images present by name, pulls that fail unless allowed. */
class FakeImages {
  present = new Map<string, Image>();
  pulls: { image: string; auth?: AuthConfig }[] = [];
  /** Images a pull can find, with the credentials they need (undefined: anonymous). */
  registry = new Map<string, AuthConfig | undefined>();

  runtime(): ContainerRuntime {
    const r: Pick<ContainerRuntime, 'type' | 'imageStatus' | 'pullImage'> = {
      type: 'cri',
      imageStatus: async (image) => this.present.get(image) ?? null,
      pullImage: async (image, auth) => {
        this.pulls.push(auth === undefined ? { image } : { image, auth });
        if (!this.registry.has(image))
          throw new RuntimeError(
            'NotFound',
            `PullImage: ${image} not found`,
            `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`,
          );
        const need = this.registry.get(image);
        if (need !== undefined && (auth?.username !== need.username || auth?.password !== need.password))
          throw new RuntimeError('Internal', 'PullImage: 401', '401 Unauthorized');
        const img: Image = {
          id: `sha256:${image.length}`,
          repoTags: [image],
          repoDigests: [],
          size: 1,
          username: '',
          pinned: false,
        };
        this.present.set(image, img);
        return img.id;
      },
    };
    return r as ContainerRuntime;
  }
}

interface Recorded {
  type: string;
  reason: string;
  message: string;
}

function setup(secrets: Secret[] = []): {
  clock: FakeClock;
  images: FakeImages;
  events: Recorded[];
  lc: ContainerLifecycle;
} {
  const clock = new FakeClock();
  const images = new FakeImages();
  const events: Recorded[] = [];
  const recorder: EventRecorder = {
    event: (_o, type, reason, message) => events.push({ type, reason, message }),
    annotatedEvent: (_o, _a, type, reason, message) => events.push({ type, reason, message }),
  } as EventRecorder;
  const lc = new ContainerLifecycle({
    runtime: images.runtime(),
    hostIP: () => '127.0.0.1',
    node: () => undefined,
    sources: {
      configMap: async () => undefined,
      secret: async (_ns, name) => secrets.find((s) => s.metadata?.name === name),
    },
    clock,
    events: new KubeletEvents(recorder),
  });
  return { clock, images, events, lc };
}

function pod(c: Container, pullSecrets: string[] = []): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: {
      containers: [c],
      ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
    },
  };
}

async function waitingOf(p: Promise<unknown>): Promise<WaitingError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WaitingError) return e;
    throw e;
  }
  assert.fail('expected a WaitingError');
}

describe('image pulls (upstream image manager)', () => {
  it('ErrImagePull, then ImagePullBackOff for 10 s doubling to 5 min', async () => {
    const { clock, images, events, lc } = setup();
    const image = 'reg.example:5000/app:1';
    const c: Container = { name: 'c', image };
    const p = pod(c);
    const first = await waitingOf(lc.ensureImage(p, c));
    assert.equal(first.reason, 'ErrImagePull');
    const cause = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
    assert.equal(first.message, cause);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.message]),
      [
        ['Normal', 'Pulling', `Pulling image "${image}"`],
        ['Warning', 'Failed', `Failed to pull image "${image}": ${cause}`],
      ],
    );
    events.length = 0;
    clock.step(1000);
    const backoff = await waitingOf(lc.ensureImage(p, c));
    assert.equal(backoff.reason, 'ImagePullBackOff');
    assert.equal(backoff.message, `Back-off pulling image "${image}": ErrImagePull: ${cause}`);
    assert.equal(backoff.retryAfterMs, 9000);
    assert.deepEqual(events, [
      { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${image}"` },
    ]);
    assert.equal(images.pulls.length, 1);
    // Each failed attempt doubles the window, up to 5 min.
    const windows: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock.step(windows.at(-1) ?? 9000);
      const e = await waitingOf(lc.ensureImage(p, c));
      assert.equal(e.reason, 'ErrImagePull', `attempt ${i + 2}`);
      windows.push((await waitingOf(lc.ensureImage(p, c))).retryAfterMs ?? 0);
    }
    assert.deepEqual(windows, [20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    // A pull that works again ends it.
    images.registry.set(image, undefined);
    clock.step(300_000);
    assert.equal(await lc.ensureImage(p, c), `sha256:${image.length}`);
  });

  it('follows the pull policy: IfNotPresent, Always, Never', async () => {
    const { images, events, lc } = setup();
    images.present.set('reg.example/here:1', {
      id: 'sha256:here',
      repoTags: [],
      repoDigests: [],
      size: 5,
      username: '',
      pinned: false,
    });
    images.registry.set('reg.example/here:1', undefined);
    const here: Container = { name: 'c', image: 'reg.example/here:1' };
    assert.equal(await lc.ensureImage(pod(here), here), 'sha256:here');
    assert.deepEqual(events.at(-1), {
      type: 'Normal',
      reason: 'Pulled',
      message: 'Container image "reg.example/here:1" already present on machine',
    });
    assert.equal(images.pulls.length, 0);
    const always: Container = { ...here, imagePullPolicy: 'Always' };
    await lc.ensureImage(pod(always), always);
    assert.equal(images.pulls.length, 1);
    assert.match(events.at(-1)?.message ?? '', /^Successfully pulled image "reg.example\/here:1" in /);
    const never: Container = { name: 'c', image: 'reg.example/gone:1', imagePullPolicy: 'Never' };
    const e = await waitingOf(lc.ensureImage(pod(never), never));
    assert.equal(e.reason, 'ErrImageNeverPull');
    assert.equal(e.message, 'Container image "reg.example/gone:1" is not present with pull policy of Never');
    assert.deepEqual(events.at(-1), {
      type: 'Warning',
      reason: 'ErrImageNeverPull',
      message: e.message,
    });
    // kts's own images have no registry: Always is satisfied by the imported copy.
    images.present.set('kts.local/busybox:latest', {
      id: 'sha256:bb',
      repoTags: [],
      repoDigests: [],
      size: 1,
      username: '',
      pinned: false,
    });
    const local: Container = { name: 'c', image: 'kts.local/busybox:latest' };
    const pulls = images.pulls.length;
    events.length = 0;
    assert.equal(await lc.ensureImage(pod(local), local), 'sha256:bb');
    assert.equal(images.pulls.length, pulls, 'no registry is asked for a kts.local image');
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.reason} ${e.message}`),
      [
        'Normal Pulling Pulling image "kts.local/busybox:latest"',
        'Normal Pulled Successfully pulled image "kts.local/busybox:latest" in 0s (0s including waiting). Image size: 1 bytes.',
      ],
    );
  });

  it('pulls with the matching imagePullSecrets credentials; reports missing secrets', async () => {
    const auth = (user: string, pass: string): string =>
      Buffer.from(
        JSON.stringify({
          auths: {
            'reg.example:5000': { auth: Buffer.from(`${user}:${pass}`).toString('base64') },
            'other.example': { username: 'o', password: 'o' },
          },
        }),
      ).toString('base64');
    const secrets: Secret[] = [
      {
        metadata: { name: 'wrong' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': auth('u', 'bad') },
      },
      {
        metadata: { name: 'right' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': auth('u', 'pw') },
      },
    ];
    const { images, events, lc } = setup(secrets);
    const image = 'reg.example:5000/private/app:2';
    images.registry.set(image, { username: 'u', password: 'pw' });
    const c: Container = { name: 'c', image };
    const anonymous = await waitingOf(lc.ensureImage(pod(c), c));
    assert.equal(anonymous.message, '401 Unauthorized');
    const p = {
      ...pod(c, ['missing', 'wrong', 'right']),
      metadata: { name: 'p', namespace: 'ns', uid: 'u2' },
    };
    assert.equal(await lc.ensureImage(p, c), `sha256:${image.length}`);
    assert.deepEqual(
      images.pulls.slice(1).map((x) => x.auth?.password),
      ['bad', 'pw'],
    );
    assert.ok(
      events.some(
        (e) =>
          e.reason === 'FailedToRetrieveImagePullSecret' &&
          e.message ===
            'Unable to retrieve some image pull secrets (missing); attempting to pull the image may not succeed.',
      ),
    );
  });
});
