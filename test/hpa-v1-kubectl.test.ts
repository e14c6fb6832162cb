// `kubectl autoscale` (1.32) creates its HorizontalPodAutoscaler through the typed
// autoscaling/v1 client (a protobuf body); kts stores autoscaling/v2 and converts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let api: TestApiServer;
let k: Kubectl;

before(async () => {
  api = await startTestApiServer();
  k = new Kubectl(api.server.kubeconfigPath);
});

after(async () => {
  k.cleanup();
  await api.stop();
});

describe('autoscaling/v1 HorizontalPodAutoscalers', () => {
  it('kubectl autoscale creates an HPA readable at v2 and v1', async () => {
    await k.ok(['create', 'deployment', 'web', '--image=kts.local/busybox:latest', '--replicas=2']);
    const out = await k.ok(['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=80']);
    assert.equal(out.trim(), 'horizontalpodautoscaler.autoscaling/web autoscaled');
    const v2 = JSON.parse(await k.ok(['get', 'hpa', 'web', '-o', 'json']));
    assert.equal(v2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2.spec.metrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
      },
    ]);
    assert.equal(v2.spec.minReplicas, 2);
    // autoscaling/v1 is answered but not advertised in discovery, so go by path.
    const path = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
    const v1 = JSON.parse(await k.ok(['get', '--raw', `${path}/web`]));
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 80);
    assert.equal(v1.spec.maxReplicas, 5);
    const table = await k.ok(['get', 'hpa']);
    assert.match(table, /^web\s+Deployment\/web\s+cpu: <unknown>\/80%\s+2\s+5\s+0\s+/m);
    const list = JSON.parse(await k.ok(['get', '--raw', path]));
    assert.equal(list.kind, 'HorizontalPodAutoscalerList');
    assert.equal(list.items[0].spec.targetCPUUtilizationPercentage, 80);
    await k.ok(['delete', '--raw', `${path}/web`]);
    const gone = await k.run(['get', 'hpa', 'web']);
    assert.equal(
      gone.stderr.trim(),
      'Error from server (NotFound): horizontalpodautoscalers.autoscaling "web" not found',
    );
  });

  it('kubectl autoscale without --cpu-percent gets the default 80% CPU target and minReplicas 1', async () => {
    await k.ok(['create', 'deployment', 'api', '--image=kts.local/busybox:latest']);
    await k.ok(['autoscale', 'deployment', 'api', '--max=3']);
    const table = await k.ok(['get', 'hpa', 'api']);
    assert.match(table, /^api\s+Deployment\/api\s+cpu: <unknown>\/80%\s+1\s+3\s+0\s+/m);
    await k.ok(['delete', 'hpa', 'api']);
  });
});
