// Admission webhooks end to end: a loopback HTTPS server with a certificate from a CA made
// for the test, registered through Mutating/ValidatingWebhookConfigurations with that CA as
// caBundle, called by the admission chain while the generic Store writes pods.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chainOf } from '../src/apiserver/admission/chain.js';
import { AdmissionFixture, namespace, pod } from '../src/apiserver/admission/testing.js';
import { mutatingAdmissionWebhook, validatingAdmissionWebhook } from '../src/apiserver/admission/webhook.js';
import type { KObject } from '../src/apiserver/registry/object.js';
import { StatusError } from '../src/machinery/status-error.js';
import { createKeyPair } from '../src/pki/x509.js';

interface Review {
  request: { uid: string; operation: string; object?: KObject; userInfo: { username: string } };
}

type Handler = (r: Review) => Record<string, unknown>;

function jsonPatch(ops: unknown[]): string {
  return Buffer.from(JSON.stringify(ops)).toString('base64');
}

describe('admission webhooks over HTTPS', () => {
  const f = new AdmissionFixture();
  const chain = chainOf([mutatingAdmissionWebhook(f.stores), validatingAdmissionWebhook(f.stores)]);
  const ca = createKeyPair({
    subject: { commonName: 'webhook-test-ca' },
    isCA: true,
    notAfter: new Date(Date.now() + 86400_000),
  });
  const serving = createKeyPair(
    {
      subject: { commonName: 'webhook' },
      usages: ['serverAuth'],
      sans: ['127.0.0.1', 'localhost'],
      notAfter: new Date(Date.now() + 86400_000),
    },
    ca,
  );
  const handlers = new Map<string, Handler>();
  const calls: string[] = [];
  let server: Server;
  let base = '';

  const validating = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
    name,
    clientConfig: { url: `${base}${path}`, caBundle: Buffer.from(ca.certPem).toString('base64') },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...extra,
  });

  before(async () => {
    server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://x');
        calls.push(`${url.pathname}?${url.searchParams.toString()}`);
        const review = JSON.parse(Buffer.concat(chunks).toString()) as Review;
        const h = handlers.get(url.pathname);
        const response = { uid: review.request.uid, allowed: true, ...(h ? h(review) : {}) };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await f.seed('', 'namespaces', namespace('default'));
    await f.seed('', 'namespaces', namespace('exempt', { webhooks: 'off' }));

    handlers.set('/deny', (r) =>
      r.request.object?.metadata?.labels?.deny === 'true'
        ? {
            allowed: false,
            status: { code: 403, reason: 'Forbidden', message: 'pods labelled deny=true are not welcome' },
          }
        : { warnings: ['checked by deny.example.com'] },
    );
    handlers.set('/label', (r) => ({
      patchType: 'JSONPatch',
      patch: jsonPatch(
        r.request.object?.metadata?.labels
          ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }]
          : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'yes' } }],
      ),
    }));
    // Re-invoked when the later webhook changes the pod: it records how often it ran.
    handlers.set('/count', (r) => {
      const n = Number(r.request.object?.metadata?.annotations?.count ?? '0') + 1;
      const op = r.request.object?.metadata?.annotations ? 'replace' : 'add';
      const ops =
        op === 'add'
          ? [{ op, path: '/metadata/annotations', value: { count: String(n) } }]
          : [{ op, path: '/metadata/annotations/count', value: String(n) }];
      return { patchType: 'JSONPatch', patch: jsonPatch(ops) };
    });
    await f.seed('admissionregistration.k8s.io', 'mutatingwebhookconfigurations', {
      metadata: { name: 'a-mutators' },
      webhooks: [
        { ...validating('count.example.com', '/count'), reinvocationPolicy: 'IfNeeded' },
        {
          ...validating('label.example.com', '/label'),
          namespaceSelector: { matchExpressions: [{ key: 'webhooks', operator: 'NotIn', values: ['off'] }] },
        },
      ],
    });
    await f.seed('admissionregistration.k8s.io', 'validatingwebhookconfigurations', {
      metadata: { name: 'validators' },
      webhooks: [
        validating('deny.example.com', '/deny'),
        validating('gone.example.com', '/x', {
          clientConfig: {
            url: 'https://127.0.0.1:1/x',
            caBundle: Buffer.from(ca.certPem).toString('base64'),
          },
          failurePolicy: 'Ignore',
        }),
      ],
    });
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await f.close();
  });

  it('a validating webhook denies a pod with its message', async () => {
    await assert.rejects(
      f.create(chain, '', 'pods', {
        ...pod('bad'),
        metadata: { name: 'bad', namespace: 'default', labels: { deny: 'true' } },
      }),
      (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 403);
        assert.equal(
          e.status.message,
          'admission webhook "deny.example.com" denied the request: pods labelled deny=true are not welcome',
        );
        return true;
      },
    );
    assert.ok(calls.some((c) => c === '/deny?timeout=10s'));
  });

  it('applies JSONPatch mutations, re-invokes IfNeeded webhooks once, and passes warnings on', async () => {
    const p = await f.create(chain, '', 'pods', pod('good'));
    assert.equal(p.metadata?.labels?.mutated, 'yes');
    // count ran, label changed the pod after it, so count ran once more.
    assert.equal(p.metadata?.annotations?.count, '2');
    assert.deepEqual(f.warnings, ['checked by deny.example.com']);
  });

  it('honours namespaceSelector', async () => {
    const p = await f.create(chain, '', 'pods', pod('plain', 'exempt'));
    assert.equal(p.metadata?.labels?.mutated, undefined);
    assert.equal(p.metadata?.annotations?.count, '1');
  });

  it('fails closed under failurePolicy Fail when the webhook is unreachable', async () => {
    await f.seed('admissionregistration.k8s.io', 'validatingwebhookconfigurations', {
      metadata: { name: 'z-broken' },
      webhooks: [
        validating('broken.example.com', '/x', {
          clientConfig: {
            url: 'https://127.0.0.1:1/x',
            caBundle: Buffer.from(ca.certPem).toString('base64'),
          },
          rules: [
            { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] },
          ],
        }),
      ],
    });
    await assert.rejects(
      f.create(chain, '', 'configmaps', { metadata: { name: 'cm', namespace: 'default' } }),
      (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 500);
        assert.equal(
          e.status.message,
          'Internal error occurred: failed calling webhook "broken.example.com": failed to call webhook: Post "https://127.0.0.1:1/x?timeout=10s": dial tcp 127.0.0.1:1: connect: connection refused',
        );
        return true;
      },
    );
  });

  it('refuses a server whose certificate the caBundle does not sign', async () => {
    const other = createKeyPair({
      subject: { commonName: 'other-ca' },
      isCA: true,
      notAfter: new Date(Date.now() + 86400_000),
    });
    await f.seed('admissionregistration.k8s.io', 'validatingwebhookconfigurations', {
      metadata: { name: 'z-untrusted' },
      webhooks: [
        validating('untrusted.example.com', '/deny', {
          clientConfig: { url: `${base}/deny`, caBundle: Buffer.from(other.certPem).toString('base64') },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['secrets'] }],
        }),
      ],
    });
    await assert.rejects(
      f.create(chain, '', 'secrets', { metadata: { name: 's', namespace: 'default' } }),
      (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.match(
          e.status.message ?? '',
          /^Internal error occurred: failed calling webhook "untrusted.example.com": failed to call webhook: Post ".*": tls: failed to verify certificate/,
        );
        return true;
      },
    );
  });
});
