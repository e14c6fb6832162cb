// The official JavaScript client (@kubernetes/client-node) against a kts API server, used
// the way controllers use it: typed CRUD, list with selectors, raw watches resumed from a
// resourceVersion, informers, server-side apply, and the error objects it builds from a
// Status. Pods stay Pending (no scheduler or kubelet runs here), which is all this needs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Pod,
  type V1Status,
  Watch,
} from '@kubernetes/client-node';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let kc: KubeConfig;
let core: CoreV1Api;

before(async () => {
  api = await startTestApiServer();
  kc = new KubeConfig();
  kc.loadFromFile(api.server.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});

after(async () => {
  await api.stop();
});

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
  };
}

/** A promise settled from outside, which rejects on its own after `ms`. */
function deferred<T>(what: string, ms: number): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((res, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    resolve = (v) => {
      clearTimeout(t);
      res(v);
    };
  });
  return { promise, resolve };
}

/** Polls `cond` until it holds, failing after `ms`. */
async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('client-node typed API', () => {
  it('creates, reads and lists pods with a label selector', async () => {
    const created = await core.createNamespacedPod({
      namespace: 'default',
      body: pod('typed-a', { app: 'x' }),
    });
    assert.equal(created.metadata?.name, 'typed-a');
    assert.equal(created.metadata?.namespace, 'default');
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.creationTimestamp instanceof Date);
    assert.equal(created.status?.phase, 'Pending');
    await core.createNamespacedPod({ namespace: 'default', body: pod('typed-b', { app: 'y' }) });

    const read = await core.readNamespacedPod({ namespace: 'default', name: 'typed-a' });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(read.spec?.containers[0]?.image, 'busybox:1.36');

    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=x' });
    assert.equal(list.kind, 'PodList');
    assert.ok(list.metadata?.resourceVersion);
    assert.deepEqual(
      list.items.map((p) => p.metadata?.name),
      ['typed-a'],
    );
    const all = await core.listPodForAllNamespaces({ labelSelector: 'app in (x,y)' });
    assert.deepEqual(all.items.map((p) => p.metadata?.name).sort(), ['typed-a', 'typed-b']);
  });

  it('patches with each patch content type', async () => {
    const merged = await core.patchNamespacedPod(
      { namespace: 'default', name: 'typed-a', body: { metadata: { labels: { merged: 'yes' } } } },
      mergePatch,
    );
    assert.deepEqual(merged.metadata?.labels, { app: 'x', merged: 'yes' });
    const strategic = await core.patchNamespacedPod(
      {
        namespace: 'default',
        name: 'typed-a',
        body: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(strategic.spec?.containers.length, 1);
    assert.equal(strategic.spec?.containers[0]?.image, 'busybox:1.37');
    // The generated client's default patch type is JSON patch.
    const jsonPatched = await core.patchNamespacedPod({
      namespace: 'default',
      name: 'typed-a',
      body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'json' } }],
    });
    assert.deepEqual(jsonPatched.metadata?.annotations, { note: 'json' });
  });

  it('applies server-side through KubernetesObjectApi', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const spec: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: 'default' },
      data: { a: '1' },
    };
    const first = await objects.patch(
      spec,
      undefined,
      undefined,
      'client-node-test',
      true,
      PatchStrategy.ServerSideApply,
    );
    assert.deepEqual(first.data, { a: '1' });
    const managers = first.metadata?.managedFields?.map((m) => [m.manager, m.operation]);
    assert.deepEqual(managers, [['client-node-test', 'Apply']]);
    const second = await objects.patch(
      { ...spec, data: { a: '2', b: '3' } },
      undefined,
      undefined,
      'client-node-test',
      true,
      PatchStrategy.ServerSideApply,
    );
    assert.deepEqual(second.data, { a: '2', b: '3' });
    const read = await objects.read<V1ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: 'default' },
    });
    assert.equal(read.metadata?.resourceVersion, second.metadata?.resourceVersion);
  });

  it('surfaces a 404 as an ApiException whose body is a NotFound Status', async () => {
    await assert.rejects(
      core.readNamespacedPod({ namespace: 'default', name: 'missing' }),
      (err: unknown) => {
        assert.ok(err instanceof ApiException);
        assert.equal(err.code, 404);
        const status = JSON.parse(String(err.body)) as V1Status;
        assert.equal(status.kind, 'Status');
        assert.equal(status.apiVersion, 'v1');
        assert.equal(status.status, 'Failure');
        assert.equal(status.reason, 'NotFound');
        assert.equal(status.code, 404);
        assert.equal(status.message, 'pods "missing" not found');
        assert.deepEqual(status.details, { name: 'missing', kind: 'pods' });
        return true;
      },
    );
  });

  it('surfaces a duplicate create as a 409 AlreadyExists Status', async () => {
    await assert.rejects(
      core.createNamespacedPod({ namespace: 'default', body: pod('typed-b') }),
      (err: unknown) => {
        assert.ok(err instanceof ApiException);
        assert.equal(err.code, 409);
        const status = JSON.parse(String(err.body)) as V1Status;
        assert.equal(status.reason, 'AlreadyExists');
        assert.equal(status.message, 'pods "typed-b" already exists');
        return true;
      },
    );
  });
});

describe('client-node Watch', () => {
  it('replays from a resourceVersion, then streams live events, in order', async () => {
    const list = await core.listNamespacedPod({ namespace: 'default' });
    const rv = list.metadata?.resourceVersion;
    assert.ok(rv);
    // Two writes before the watch starts (replayed from rv), one after (live).
    await core.createNamespacedPod({ namespace: 'default', body: pod('watched') });
    await core.patchNamespacedPod(
      { namespace: 'default', name: 'watched', body: { metadata: { labels: { step: '2' } } } },
      mergePatch,
    );
    const seen: Array<[string, string, string]> = [];
    const deleted = deferred<void>('watch DELETED', 8000);
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type: string, obj: V1Pod) => {
        if (type === 'BOOKMARK') return;
        seen.push([type, obj.metadata?.name ?? '', obj.metadata?.resourceVersion ?? '']);
        if (type === 'DELETED') deleted.resolve();
      },
      () => {},
    );
    try {
      await core.deleteNamespacedPod({ namespace: 'default', name: 'watched', gracePeriodSeconds: 0 });
      await deleted.promise;
    } finally {
      controller.abort();
    }
    assert.deepEqual(
      seen.map(([t, n]) => `${t} ${n}`),
      ['ADDED watched', 'MODIFIED watched', 'DELETED watched'],
    );
    const rvs = seen.map(([, , r]) => Number(r));
    assert.ok(
      rvs.every((r, i) => r > Number(rv) && (i === 0 || r > (rvs[i - 1] ?? 0))),
      `resourceVersions ${rvs.join(',')}`,
    );
  });

  it('starts a watch on a quiet collection without waiting for an event', async () => {
    // Watch.watch() resolves when the response headers arrive; the server must send them
    // at once (as upstream flushes them) or a watch with nothing to report never starts.
    const ended = deferred<unknown>('watch end', 8000);
    const started = Date.now();
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/kube-public/pods',
      { timeoutSeconds: 1 },
      () => {},
      (err: unknown) => ended.resolve(err),
    );
    try {
      assert.ok(Date.now() - started < 900, 'watch() waited for the server-side timeout');
      // timeoutSeconds ends the stream from the server side, cleanly.
      assert.equal(await ended.promise, null);
    } finally {
      controller.abort();
    }
  });

  it('reports a too-old resourceVersion as an ERROR event with a 410 Status', async () => {
    await api.server.storage.compact(await currentRevision());
    const first = deferred<{ type: string; obj: V1Status }>('410 event', 8000);
    const ended = deferred<unknown>('watch end', 8000);
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: '1' },
      (type: string, obj: V1Status) => first.resolve({ type, obj }),
      (err: unknown) => ended.resolve(err),
    );
    try {
      const ev = await first.promise;
      assert.equal(ev.type, 'ERROR');
      assert.equal(ev.obj.kind, 'Status');
      assert.equal(ev.obj.code, 410);
      assert.equal(ev.obj.reason, 'Expired');
      assert.match(ev.obj.message ?? '', /^too old resource version: 1 \(\d+\)$/);
      // The server ends the stream after the error; the client sees a clean close.
      assert.equal(await ended.promise, null);
    } finally {
      controller.abort();
    }
  });
});

async function currentRevision(): Promise<number> {
  const list = await core.listNamespacedPod({ namespace: 'default' });
  return Number(list.metadata?.resourceVersion);
}

describe('client-node informer', () => {
  it('delivers add, update and delete in order and keeps its cache current', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('inf-pre', { inf: 'yes' }) });
    const informer = makeInformer(
      kc,
      '/api/v1/namespaces/default/pods',
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'inf=yes' }),
      'inf=yes',
    );
    const events: string[] = [];
    const errors: unknown[] = [];
    const deleted = deferred<void>('informer delete', 8000);
    informer.on('add', (p) => events.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => events.push(`update ${p.metadata?.name} ${p.metadata?.labels?.phase}`));
    informer.on('delete', (p) => {
      events.push(`delete ${p.metadata?.name}`);
      deleted.resolve();
    });
    informer.on('error', (e) => errors.push(e));
    // start() returns once the list is in and the watch has begun (its headers arrived).
    await informer.start();
    try {
      assert.deepEqual(
        informer.list('default').map((p) => p.metadata?.name),
        ['inf-pre'],
      );
      await core.createNamespacedPod({ namespace: 'default', body: pod('inf-a', { inf: 'yes' }) });
      await core.patchNamespacedPod(
        { namespace: 'default', name: 'inf-a', body: { metadata: { labels: { phase: 'two' } } } },
        mergePatch,
      );
      // A pod outside the selector never reaches the handlers.
      await core.createNamespacedPod({ namespace: 'default', body: pod('inf-other', { inf: 'no' }) });
      await until(
        'the cached update',
        5000,
        () => informer.get('inf-a', 'default')?.metadata?.labels?.phase === 'two',
      );
      await core.deleteNamespacedPod({ namespace: 'default', name: 'inf-a', gracePeriodSeconds: 0 });
      await deleted.promise;
    } finally {
      await informer.stop();
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(events, ['add inf-pre', 'add inf-a', 'update inf-a two', 'delete inf-a']);
    assert.deepEqual(
      informer.list('default').map((p) => p.metadata?.name),
      ['inf-pre'],
    );
  });
});
