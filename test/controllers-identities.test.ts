// Per-controller credentials (upstream --use-service-account-credentials) against a real API
// server with the bootstrap RBAC policy: the manager authenticates as
// system:kube-controller-manager (its own certificate, as `kts server` issues it), creates
// each controller's kube-system ServiceAccount and gets its token through TokenRequest; each
// controller then acts as that account and can do exactly what its system:controller:<name>
// role allows, and no more.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '../src/api/generated/types/apps-v1.js';
import type { SelfSubjectReview } from '../src/api/generated/types/authentication-v1.js';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { gvr } from '../src/client/interface.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import type { Logger, LogFields } from '../src/client/log.js';
import { DEPLOYMENTS, EVENTS, PODS, REPLICASETS, SECRETS, SERVICEACCOUNTS } from '../src/client/resources.js';
import { RestClient } from '../src/client/rest-client.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { newReplicaSetController } from '../src/controllers/replicaset/index.js';
import { isForbidden, type StatusError } from '../src/machinery/status-error.js';
import { ensureClusterPKI } from '../src/pki/cluster-pki.js';
import { issueIdentity } from '../src/server/identities.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const SELF_SUBJECT_REVIEWS = gvr<SelfSubjectReview>('authentication.k8s.io', 'v1', 'selfsubjectreviews');

let srv: TestApiServer;
let admin: RestClient;
let manager: RestClient;
let builder: ServiceAccountClientBuilder;
let lastErrors: unknown[] = [];

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(lastErrors)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function capture(): Logger & { errors: Array<{ msg: string; fields?: LogFields }> } {
  const errors: Array<{ msg: string; fields?: LogFields }> = [];
  lastErrors = errors;
  return {
    errors,
    info() {},
    debug() {},
    error(msg, fields) {
      errors.push({ msg, ...(fields !== undefined ? { fields } : {}) });
    },
  };
}

function replicaSet(name: string): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { rs: name } },
      template: {
        metadata: { labels: { rs: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  };
}

const podsOf = async (rs: string): Promise<number> =>
  (await admin.resource(PODS).list('default', { labelSelector: `rs=${rs}` })).items.length;

before(async () => {
  srv = await startTestApiServer('memory://');
  admin = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 });
  const pki = ensureClusterPKI(srv.dataDir);
  const id = issueIdentity('controller-manager', {
    dataDir: srv.dataDir,
    server: srv.server.url,
    ca: pki.ca,
    nodeName: 'unused',
    components: ['controller-manager'],
  });
  const config = { ...loadKubeconfig(id.kubeconfigPath), qps: 0 };
  manager = new RestClient(config);
  builder = new ServiceAccountClientBuilder({ client: manager, config });
});

after(async () => {
  builder.close();
  manager.close();
  admin.close();
  await srv.stop();
});

describe('per-controller credentials', () => {
  it('the manager makes each controller a kube-system ServiceAccount and acts through its token', async () => {
    const c = await builder.clientFor('deployment-controller');
    const sa = await admin.resource(SERVICEACCOUNTS).get('kube-system', 'deployment-controller');
    assert.equal(sa.metadata?.name, 'deployment-controller');
    const review = await c.resource(SELF_SUBJECT_REVIEWS).create('', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.equal(
      review.status?.userInfo?.username,
      'system:serviceaccount:kube-system:deployment-controller',
    );
    assert.ok(review.status?.userInfo?.groups?.includes('system:serviceaccounts:kube-system'));
    // The same client is handed out again.
    assert.equal(await builder.clientFor('deployment-controller'), c);
  });

  it("a controller's role bounds what it may do (403 outside it)", async () => {
    const c = await builder.clientFor('deployment-controller');
    await c.resource(REPLICASETS).list('default');
    const err = await c
      .resource(SECRETS)
      .create('default', { metadata: { name: 'x' } })
      .then(
        () => undefined,
        (e: unknown) => e as StatusError,
      );
    assert.ok(err !== undefined && isForbidden(err));
    assert.equal(
      err.message,
      'secrets is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot create resource "secrets" in API group "" in the namespace "default"',
    );
  });

  it('a controller run under an account whose role lacks pods/create gets 403 and creates nothing', async () => {
    const log = capture();
    const ac = new AbortController();
    const run = new ControllerManager({
      client: manager,
      clientBuilder: builder,
      // The ReplicaSet controller with the disruption controller's rights: it may read
      // ReplicaSets but not create pods.
      registry: [
        {
          name: 'replicaset',
          serviceAccount: 'disruption-controller',
          factory: newReplicaSetController,
        },
      ],
      log,
    }).run(ac.signal);
    try {
      await admin.resource(REPLICASETS).create('default', replicaSet('denied'));
      // The refusal is reported as upstream reports it: a FailedCreate event on the ReplicaSet.
      const ev = await until('a FailedCreate event', async () =>
        (await admin.resource(EVENTS).list('default')).items.find(
          (e) => e.reason === 'FailedCreate' && e.involvedObject?.name === 'denied',
        ),
      );
      assert.equal(
        ev.message,
        'Error creating: pods is forbidden: User "system:serviceaccount:kube-system:disruption-controller" cannot create resource "pods" in API group "" in the namespace "default"',
      );
      await until('a forbidden sync', async () =>
        log.errors.some((e) => /is forbidden/.test(String(e.fields?.error ?? ''))) ? true : undefined,
      );
      assert.equal(await podsOf('denied'), 0);
    } finally {
      ac.abort();
      await run;
    }
  });

  it('the real controllers, each under its own account, do their work', async () => {
    const ac = new AbortController();
    const log = capture();
    const m = new ControllerManager({
      client: manager,
      clientBuilder: builder,
      registry: controllerRegistry,
      controllers: ['replicaset', 'deployment', 'garbage-collector', 'serviceaccount'],
      log,
    });
    const run = m.run(ac.signal);
    try {
      // The ReplicaSet left without pods by the previous test is picked up by its rightful owner.
      await until('pods of denied', async () => ((await podsOf('denied')) === 2 ? true : undefined));
      const d: Deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'busybox' }] },
          },
        },
      };
      await admin.resource(DEPLOYMENTS).create('default', d);
      await until('pods of web', async () => {
        const pods = await admin.resource(PODS).list('default', { labelSelector: 'app=web' });
        return pods.items.length === 2 ? true : undefined;
      });
      // Garbage collection (generic-garbage-collector) removes the dependents.
      await admin.resource(DEPLOYMENTS).delete('default', 'web', { propagationPolicy: 'Background' });
      await until('web collected', async () => {
        const pods = await admin.resource(PODS).list('default', { labelSelector: 'app=web' });
        return pods.items.length === 0 ? true : undefined;
      });
      const forbidden = log.errors.filter((e) => /forbidden/i.test(String(e.fields?.error ?? '')));
      assert.deepEqual(forbidden, []);
    } finally {
      ac.abort();
      await run;
    }
  });
});
