// Deleting a namespace with the real namespace controller and kubectl, as upstream 1.32
// behaves: the namespace stays Terminating while content with finalizers remains (its
// status conditions say which), refuses new content with upstream's message, and goes away
// once the last finalizer is removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SharedInformerFactory } from '../src/client/cache/informer-factory.js';
import { realClock } from '../src/client/clock.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { noopLogger } from '../src/client/log.js';
import { RestClient } from '../src/client/rest-client.js';
import { newNamespaceController } from '../src/controllers/namespace/index.js';
import { DEFAULT_CONTROLLER_OPTIONS } from '../src/controllers/types.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let api: TestApiServer;
let k: Kubectl;
let client: RestClient;
let builder: ServiceAccountClientBuilder;
const ac = new AbortController();
let run: Promise<void> | undefined;

before(async () => {
  api = await startTestApiServer('memory://');
  k = new Kubectl(api.server.kubeconfigPath);
  const cfg = loadKubeconfig(api.server.kubeconfigPath);
  client = new RestClient({ ...cfg, qps: 0 });
  builder = new ServiceAccountClientBuilder({ client, config: cfg });
  const informers = new SharedInformerFactory(client);
  const ctl = newNamespaceController({
    client: await builder.clientFor('namespace-controller'),
    informers,
    recorder: () => ({ event() {}, annotatedEvent() {} }),
    clock: realClock,
    log: noopLogger,
    options: { ...DEFAULT_CONTROLLER_OPTIONS, workers: 1 },
  });
  run = ctl.run(ac.signal);
  informers.start(ac.signal);
});

after(async () => {
  ac.abort();
  await run;
  builder.close();
  client.close();
  k.cleanup();
  await api.stop();
});

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('namespace deletion', () => {
  it('waits for content finalizers, reporting them, and refuses new content meanwhile', async () => {
    await k.ok(['create', 'namespace', 'doomed']);
    await k.ok(['-n', 'doomed', 'create', 'configmap', 'held']);
    await k.ok([
      '-n',
      'doomed',
      'patch',
      'configmap',
      'held',
      '-p',
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    assert.equal(
      (await k.ok(['delete', 'namespace', 'doomed', '--wait=false'])).trim(),
      'namespace "doomed" deleted',
    );
    type Cond = { type: string; status: string; reason: string; message: string };
    let conds: Cond[] = [];
    await until('the finalizer condition', async () => {
      const ns = JSON.parse(await k.ok(['get', 'namespace', 'doomed', '-o', 'json']));
      conds = ns.status?.conditions ?? [];
      return conds.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True');
    });
    const byType = new Map(conds.map((c) => [c.type, c]));
    assert.deepEqual(byType.get('NamespaceContentRemaining'), {
      ...byType.get('NamespaceContentRemaining'),
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: configmaps has 1 resource instances',
    });
    assert.equal(
      byType.get('NamespaceFinalizersRemaining')?.message,
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    // The controller's status writes must not end the namespace while spec.finalizers hold it.
    await new Promise((r) => setTimeout(r, 500));
    assert.match(await k.ok(['get', 'namespace', 'doomed']), /^doomed\s+Terminating\s+/m);
    const refused = await k.run(['-n', 'doomed', 'create', 'configmap', 'late']);
    assert.equal(
      refused.stderr.trim(),
      'error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    );
    await k.ok([
      '-n',
      'doomed',
      'patch',
      'configmap',
      'held',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    await until('the namespace to go', async () => (await k.run(['get', 'namespace', 'doomed'])).code === 1);
    const gone = await k.run(['get', 'namespace', 'doomed']);
    assert.equal(gone.stderr.trim(), 'Error from server (NotFound): namespaces "doomed" not found');
  });
});
