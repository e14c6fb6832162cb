import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Namespace } from '../../api/generated/types/core-v1.js';
import { CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS } from '../../client/resources.js';
import { newTestContext, type TestContext } from '../endpoints/test-context.js';
import { ServiceAccountsController } from './controller.js';
import { RootCACertPublisher } from './root-ca-publisher.js';

const ns = (name: string, terminating = false): Namespace => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name },
  status: { phase: terminating ? 'Terminating' : 'Active' },
});
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('serviceaccount controllers', () => {
  let t: TestContext | undefined;
  afterEach(async () => t?.stop());

  it('creates the default ServiceAccount, recreates it, skips terminating namespaces', async () => {
    t = newTestContext([
      { gvr: NAMESPACES, object: ns('a') },
      { gvr: NAMESPACES, object: ns('gone', true) },
    ]);
    const c = new ServiceAccountsController(t.ctx);
    await t.start();
    await c.sync('a');
    await c.sync('gone');
    const sas = t.client.resource(SERVICEACCOUNTS);
    assert.equal((await sas.get('a', 'default')).metadata?.name, 'default');
    await assert.rejects(sas.get('gone', 'default'));
    await sas.delete('a', 'default');
    await t.settle();
    assert.ok(c.queue.len() >= 1);
    await c.sync('a');
    assert.equal((await sas.get('a', 'default')).metadata?.name, 'default');
  });

  it('publishes kube-root-ca.crt and repairs edits', async () => {
    t = newTestContext([{ gvr: NAMESPACES, object: ns('a') }]);
    const c = new RootCACertPublisher(t.ctx, PEM);
    await t.start();
    await c.sync('a');
    const cms = t.client.resource(CONFIGMAPS);
    const cm = await cms.get('a', 'kube-root-ca.crt');
    assert.deepEqual(cm.data, { 'ca.crt': PEM });
    await cms.update('a', { ...cm, data: { 'ca.crt': 'tampered', extra: 'x' } });
    await t.settle();
    await c.sync('a');
    assert.deepEqual((await cms.get('a', 'kube-root-ca.crt')).data, { 'ca.crt': PEM });
  });
});
