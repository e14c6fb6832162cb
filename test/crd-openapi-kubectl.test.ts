// OpenAPI of custom resources with the real kubectl: once a CRD is Established, its
// group/version appears in the /openapi/v3 index, `kubectl explain` reads the CRD's schema
// (descriptions included) from there, kubectl's strict client-side checks accept a valid
// object and the server reports an unknown field, /openapi/v2 carries the definitions, and
// deleting the CRD removes its document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';
import { until } from './helpers/wait.js';

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.openapi.example.com
spec:
  group: openapi.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        description: A gadget of the openapi test.
        properties:
          spec:
            type: object
            description: The desired state of the gadget.
            properties:
              size:
                type: integer
                description: How large the gadget is.
                minimum: 1
              color:
                type: string
                description: The gadget's color.
                enum: [red, blue]
          status:
            type: object
            properties:
              ready: {type: boolean}
`;

let api: TestApiServer;
let k: Kubectl;

before(async () => {
  api = await startTestApiServer();
  k = new Kubectl(api.server.kubeconfigPath);
  await k.ok(['apply', '-f', '-'], { stdin: CRD });
  await k.ok(['wait', '--for', 'condition=established', '--timeout=20s', 'crd/gadgets.openapi.example.com']);
});

after(async () => {
  k.cleanup();
  await api.stop();
});

async function getJSON(path: string): Promise<Record<string, unknown>> {
  const out = await k.ok(['get', '--raw', path]);
  return JSON.parse(out) as Record<string, unknown>;
}

describe('OpenAPI of custom resources (kubectl)', () => {
  it('lists the custom group/version in the v3 index', async () => {
    await until(
      'the v3 index to list apis/openapi.example.com/v1',
      async () =>
        Object.hasOwn((await getJSON('/openapi/v3')).paths as object, 'apis/openapi.example.com/v1')
          ? true
          : undefined,
      10_000,
    );
  });

  it('kubectl explain shows the CRD schema and its descriptions', async () => {
    const out = await k.ok(['explain', 'gadgets.spec']);
    assert.match(out, /KIND:\s+Gadget/);
    assert.match(out, /GROUP:\s+openapi\.example\.com/);
    assert.match(out, /VERSION:\s+v1/);
    assert.match(out, /The desired state of the gadget\./);
    assert.match(out, /size\s+<integer>/);
    assert.match(out, /How large the gadget is\./);
    const field = await k.ok(['explain', 'gadget.spec.color']);
    assert.match(field, /The gadget's color\./);
  });

  it('creates a valid object and reports unknown fields from the server', async () => {
    await k.ok(['apply', '-f', '-'], {
      stdin:
        'apiVersion: openapi.example.com/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {size: 2, color: red}\n',
    });
    const bad = await k.run(['apply', '-f', '-'], {
      stdin:
        'apiVersion: openapi.example.com/v1\nkind: Gadget\nmetadata: {name: g2, namespace: default}\nspec: {size: 2, shape: round}\n',
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown field "spec\.shape"/);
    const invalid = await k.run(['apply', '-f', '-'], {
      stdin:
        'apiVersion: openapi.example.com/v1\nkind: Gadget\nmetadata: {name: g3, namespace: default}\nspec: {size: 0}\n',
    });
    assert.notEqual(invalid.code, 0);
    assert.match(
      invalid.stderr,
      /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/,
    );
  });

  it('carries the definitions in /openapi/v2', async () => {
    const v2 = await getJSON('/openapi/v2');
    const defs = v2.definitions as Record<string, Record<string, unknown>>;
    const g = defs['com.example.openapi.v1.Gadget'];
    assert.ok(g, 'Gadget definition in v2');
    assert.deepEqual(g['x-kubernetes-group-version-kind'], [
      { group: 'openapi.example.com', kind: 'Gadget', version: 'v1' },
    ]);
    assert.ok(defs['com.example.openapi.v1.GadgetList']);
  });

  it('drops the document when the CRD is deleted', async () => {
    await k.ok(['delete', 'crd', 'gadgets.openapi.example.com']);
    await until(
      'the v3 index to drop apis/openapi.example.com/v1',
      async () =>
        Object.hasOwn((await getJSON('/openapi/v3')).paths as object, 'apis/openapi.example.com/v1')
          ? undefined
          : true,
      20_000,
    );
  });
});
