import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { servedResources } from '../served.js';
import { openapiV2Document } from './v2.js';

type Json = Record<string, unknown>;

const swagger = JSON.parse(new TextDecoder().decode(openapiV2Document())) as Json;
const paths = swagger.paths as Record<string, Record<string, Json>>;
const definitions = swagger.definitions as Record<string, Json>;

function refsIn(v: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.add(x);
      else refsIn(x, out);
    }
  }
  return out;
}

describe('openapi v2 document', () => {
  it('is a Swagger 2.0 document whose references all resolve', () => {
    assert.equal(swagger.swagger, '2.0');
    assert.deepEqual(swagger.info, { title: 'Kubernetes', version: 'unversioned' });
    for (const ref of refsIn(swagger, new Set())) {
      assert.ok(ref.startsWith('#/definitions/'), ref);
      assert.ok(Object.hasOwn(definitions, ref.slice('#/definitions/'.length)), `dangling ${ref}`);
    }
  });

  it('is built once and cached', () => {
    assert.equal(openapiV2Document(), openapiV2Document());
  });

  it('has every served kind as a definition with its GVK', () => {
    for (const r of servedResources()) {
      const gvks = (definitions[r.definition]?.['x-kubernetes-group-version-kind'] ?? []) as Json[];
      assert.ok(
        gvks.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind),
        `${r.group}/${r.version} ${r.kind}`,
      );
    }
  });

  it('describes the deployment item path like upstream', () => {
    const item = paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!;
    assert.deepEqual(
      (item.parameters as unknown as Json[]).map((p) => p.name),
      ['name', 'namespace', 'pretty'],
    );
    const patch = item.patch!;
    assert.equal(patch.operationId, 'patchAppsV1NamespacedDeployment');
    assert.deepEqual(patch.consumes, [
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    const params = patch.parameters as Json[];
    assert.deepEqual(params[0], {
      name: 'body',
      in: 'body',
      schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' },
      required: true,
    });
    assert.deepEqual(
      params.slice(1).map((p) => p.name),
      ['dryRun', 'fieldManager', 'fieldValidation', 'force'],
    );
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    assert.deepEqual((patch.responses as Record<string, Json>)['200']?.schema, {
      $ref: '#/definitions/io.k8s.api.apps.v1.Deployment',
    });
  });

  it('puts extensions beside a bare $ref and renders IntOrString and Quantity as strings', () => {
    const spec = definitions['io.k8s.api.apps.v1.DeploymentSpec']!.properties as Record<string, Json>;
    assert.deepEqual(spec.strategy, {
      $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy',
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
    assert.deepEqual(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], {
      type: 'string',
      format: 'int-or-string',
    });
    assert.deepEqual(definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'], { type: 'string' });
  });

  it('leaves out the v3-only validation stand-ins of create-only kinds', () => {
    const tokenReviews = paths['/apis/authentication.k8s.io/v1/tokenreviews']!;
    assert.deepEqual(Object.keys(tokenReviews).sort(), ['parameters', 'post']);
    for (const item of Object.values(paths)) {
      for (const op of Object.values(item)) {
        if (!Array.isArray(op))
          assert.ok(!String(op.operationId ?? '').startsWith('declare'), String(op.operationId));
      }
    }
  });
});
