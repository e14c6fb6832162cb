// The event recorder against a real API server: identical events become one Event with a
// count; similar events are aggregated; recording never blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap } from '../src/api/generated/types/core-v1.js';
import { EventBroadcaster } from '../src/client/events.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { CONFIGMAPS, EVENTS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let srv: TestApiServer;
let client: RestClient;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 });
});
after(async () => {
  client.close();
  await srv.stop();
});

describe('event recorder', () => {
  it('writes each event only after yieldTo lets it go', async () => {
    const obj: ConfigMap = await client
      .resource(CONFIGMAPS)
      .create('default', { metadata: { name: 'yield-subject' } });
    let open: () => void = () => {};
    let asked = 0;
    const gate = new Promise<void>((r) => (open = r));
    const b = new EventBroadcaster({
      client,
      yieldTo: () => {
        asked++;
        return gate;
      },
    });
    const rec = b.newRecorder({ component: 'test-controller', host: 'node-1' });
    rec.event({ ...obj, kind: 'ConfigMap', apiVersion: 'v1' }, 'Normal', 'Held', 'held back');
    const mine = async () =>
      (await client.resource(EVENTS).list('default')).items.filter(
        (e) => e.involvedObject.name === 'yield-subject',
      );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(asked, 1);
    assert.equal((await mine()).length, 0);
    open();
    await b.flush();
    assert.deepEqual(
      (await mine()).map((e) => e.reason),
      ['Held'],
    );
  });

  it('records the same event twice as one Event with count 2', async () => {
    const obj: ConfigMap = await client
      .resource(CONFIGMAPS)
      .create('default', { metadata: { name: 'subject' } });
    const b = new EventBroadcaster({ client });
    const rec = b.newRecorder({ component: 'test-controller', host: 'node-1' });
    const target = { ...obj, kind: 'ConfigMap', apiVersion: 'v1' };
    rec.event(target, 'Normal', 'Synced', 'synced ok');
    rec.event(target, 'Normal', 'Synced', 'synced ok');
    rec.event(target, 'Warning', 'Failed', 'other reason');
    await b.flush();
    const events = (await client.resource(EVENTS).list('default')).items.filter(
      (e) => e.involvedObject.name === 'subject',
    );
    assert.equal(events.length, 2);
    const synced = events.find((e) => e.reason === 'Synced');
    assert.equal(synced?.count, 2);
    assert.equal(synced?.source?.component, 'test-controller');
    assert.equal(synced?.source?.host, 'node-1');
    assert.equal(synced?.reportingComponent, 'test-controller');
    assert.equal(synced?.involvedObject.kind, 'ConfigMap');
    assert.equal(synced?.involvedObject.uid, obj.metadata?.uid);
    assert.match(synced?.metadata.name ?? '', /^subject\.[0-9a-f]+$/);
    assert.equal(synced?.type, 'Normal');
    await b.shutdown();
  });

  it('aggregates similar events and never blocks the caller', async () => {
    const b = new EventBroadcaster({ client });
    const rec = b.newRecorder({ component: 'agg' });
    const ref = { kind: 'Pod', namespace: 'default', name: 'noisy', uid: 'u-1', apiVersion: 'v1' };
    // event() only queues; the broadcaster writes asynchronously until flush().
    for (let i = 0; i < 12; i++) rec.event(ref, 'Warning', 'BackOff', `attempt ${i}`);
    await b.flush();
    const events = (await client.resource(EVENTS).list('default')).items.filter(
      (e) => e.involvedObject.name === 'noisy',
    );
    const combined = events.filter((e) => e.message?.startsWith('(combined from similar events): '));
    assert.equal(events.length, 10, '9 distinct + 1 aggregate');
    assert.equal(combined.length, 1);
    assert.equal(combined[0]?.count, 3);
    assert.equal(combined[0]?.message, '(combined from similar events): attempt 11');
    await b.shutdown();
  });

  it('shutdown drops what it cannot write within its grace instead of retrying forever', async () => {
    // A client of a port nothing listens on: every write is refused and would be retried.
    const dead = new RestClient({
      ...loadKubeconfig(srv.server.kubeconfigPath),
      server: 'https://127.0.0.1:1',
      qps: 0,
    });
    const b = new EventBroadcaster({ client: dead });
    const rec = b.newRecorder({ component: 'gone' });
    const ref = { kind: 'Pod', namespace: 'default', name: 'late', uid: 'u-2', apiVersion: 'v1' };
    for (let i = 0; i < 50; i++) rec.event(ref, 'Normal', `Reason${i}`, `event ${i}`);
    const t0 = performance.now();
    await b.shutdown(300);
    const took = performance.now() - t0;
    dead.close();
    assert.ok(took < 2000, `shutdown took ${Math.round(took)} ms`);
    await b.flush();
  });
});
