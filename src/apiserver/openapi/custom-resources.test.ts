import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CustomResourceDefinition } from '../../api/generated/types/apiextensions-v1.js';
import { CustomResourceRegistry, type ServedCustomResource } from '../../apiextensions/registry.js';
import { resourceInfoFor } from '../../apiextensions/resource-info.js';
import { compileCustomResourceSchema } from '../../apiextensions/schema/index.js';
import { openapiV2Document, openapiV2Protobuf, openapiV3Document, openapiV3Paths } from './index.js';

function widgetCRD(rv: string, description: string): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', resourceVersion: rv, uid: 'u1', generation: Number(rv) },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  description,
                  properties: {
                    replicas: { type: 'integer', description: 'How many.', minimum: 0 },
                    mode: { type: 'string', nullable: true },
                    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    either: {
                      'x-kubernetes-int-or-string': true,
                      anyOf: [{ type: 'integer' }, { type: 'string' }],
                    },
                  },
                },
                status: { type: 'object', properties: { replicas: { type: 'integer' } } },
              },
            },
          },
        },
      ],
    },
    status: {
      acceptedNames: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      storedVersions: ['v1'],
    },
  };
}

function serve(reg: CustomResourceRegistry, crd: CustomResourceDefinition): void {
  const v = crd.spec.versions[0]!;
  const schema = compileCustomResourceSchema(v.schema!.openAPIV3Schema!);
  const e: ServedCustomResource = { crd, version: 'v1', info: resourceInfoFor(crd, v), schema };
  reg.set(crd.metadata!.name!, [e]);
}

type Json = Record<string, unknown>;

function v3doc(reg: CustomResourceRegistry, key: string): Json {
  const bytes = openapiV3Document(key, reg);
  assert.ok(bytes, `no v3 document ${key}`);
  return JSON.parse(new TextDecoder().decode(bytes)) as Json;
}

describe('OpenAPI of custom resources', () => {
  it('publishes a v3 document per custom group/version, listed in the index', () => {
    const reg = new CustomResourceRegistry();
    serve(reg, widgetCRD('1', 'The spec.'));
    const idx = openapiV3Paths(reg).paths;
    assert.ok(
      idx['apis/example.com/v1']?.serverRelativeURL.startsWith('/openapi/v3/apis/example.com/v1?hash='),
    );
    assert.ok(idx['apis/example.com']);
    assert.ok(idx['apis/apps/v1'], 'built-in documents stay');
    assert.equal(openapiV3Paths().paths['apis/example.com/v1'], undefined, 'no registry, no custom groups');

    const doc = v3doc(reg, 'apis/example.com/v1');
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const w = schemas['com.example.v1.Widget']!;
    assert.deepEqual(w['x-kubernetes-group-version-kind'], [
      { group: 'example.com', kind: 'Widget', version: 'v1' },
    ]);
    const props = w.properties as Record<string, Json>;
    assert.equal(props.spec?.description, 'The spec.');
    const specProps = (props.spec?.properties ?? {}) as Record<string, Json>;
    assert.equal(specProps.replicas?.description, 'How many.');
    assert.deepEqual(props.metadata?.allOf, [
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
    ]);
    assert.equal(props.kind?.type, 'string');
    const list = schemas['com.example.v1.WidgetList']!;
    assert.deepEqual(list['x-kubernetes-group-version-kind'], [
      { group: 'example.com', kind: 'WidgetList', version: 'v1' },
    ]);
    assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale'], 'scale subresource refers to autoscaling/v1 Scale');

    const paths = doc.paths as Record<string, Json>;
    const item = paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}']!;
    const patch = item.patch as Json;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], {
      group: 'example.com',
      version: 'v1',
      kind: 'Widget',
    });
    const content = Object.keys((patch.requestBody as Json).content as Json);
    assert.ok(!content.includes('application/strategic-merge-patch+json'));
    assert.ok((patch.parameters as Json[]).some((p) => p.name === 'fieldValidation'));
    assert.ok(paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status']);
    assert.ok(paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale']);
    assert.ok(paths['/apis/example.com/v1/widgets'], 'list across namespaces');
  });

  it('changes the document hash when the CRD changes and drops removed groups', () => {
    const reg = new CustomResourceRegistry();
    serve(reg, widgetCRD('1', 'First.'));
    const before = openapiV3Paths(reg).paths['apis/example.com/v1']?.serverRelativeURL;
    serve(reg, widgetCRD('2', 'Second.'));
    const after = openapiV3Paths(reg).paths['apis/example.com/v1']?.serverRelativeURL;
    assert.notEqual(before, after);
    reg.set('widgets.example.com', []);
    assert.equal(openapiV3Paths(reg).paths['apis/example.com/v1'], undefined);
    assert.equal(openapiV3Document('apis/example.com/v1', reg), undefined);
  });

  it('merges custom definitions into v2, reduced as upstream does', () => {
    const reg = new CustomResourceRegistry();
    serve(reg, widgetCRD('1', 'The spec.'));
    const doc = JSON.parse(new TextDecoder().decode(openapiV2Document(reg))) as Json;
    const defs = doc.definitions as Record<string, Json>;
    const w = defs['com.example.v1.Widget']!;
    const spec = (w.properties as Record<string, Json>).spec!;
    const sp = spec.properties as Record<string, Json>;
    assert.equal(sp.mode?.type, undefined, 'nullable loses its type in v2');
    assert.equal(sp.extra?.type, undefined, 'preserve-unknown-fields loses type object in v2');
    assert.equal(sp.either?.anyOf, undefined, 'no anyOf in v2');
    assert.equal(
      (w.properties as Record<string, Json>).metadata?.$ref,
      '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    );
    assert.ok(defs['io.k8s.api.apps.v1.Deployment'], 'built-ins stay');
    assert.ok((doc.paths as Json)['/apis/example.com/v1/namespaces/{namespace}/widgets']);
    assert.ok(openapiV2Protobuf(reg).length > openapiV2Protobuf().length);
  });
});
