import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allDefinitions,
  definitionForGVK,
  getDefinition,
  gvksOf,
  isFreeForm,
  itemSchema,
  propertySchema,
  resolveNode,
} from './schema.js';
import type { SchemaNode } from './schema-types.js';

const POD = 'io.k8s.api.core.v1.Pod';
const POD_SPEC = 'io.k8s.api.core.v1.PodSpec';
const CONTAINER = 'io.k8s.api.core.v1.Container';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const NODE_KEYS = new Set([
  'name',
  'gvk',
  'type',
  'format',
  'ref',
  'items',
  'additionalProperties',
  'properties',
  'required',
  'enum',
  'patchStrategy',
  'patchMergeKey',
  'listType',
  'listMapKeys',
  'mapType',
  'intOrString',
  'quantity',
  'preserveUnknownFields',
  'embeddedResource',
]);

// Only the contract's keys appear (in particular no upstream `description` prose).
function assertOnlyContractKeys(node: SchemaNode, path: string): void {
  for (const k of Object.keys(node)) assert.ok(NODE_KEYS.has(k), `${path}: unexpected key ${k}`);
  if (node.items) assertOnlyContractKeys(node.items, `${path}[]`);
  if (node.additionalProperties) assertOnlyContractKeys(node.additionalProperties, `${path}{}`);
  for (const [k, v] of Object.entries(node.properties ?? {})) assertOnlyContractKeys(v, `${path}.${k}`);
}

function def(name: string): SchemaNode {
  const d = getDefinition(name);
  assert.ok(d, `definition ${name}`);
  return d;
}

describe('schema table', () => {
  it('holds every upstream definition, named by its key, without descriptions', () => {
    const defs = allDefinitions();
    assert.ok(defs.length > 700, `only ${defs.length} definitions`);
    for (const d of defs) {
      assert.equal(getDefinition(d.name), d);
      assertOnlyContractKeys(d, d.name);
    }
    const names = defs.map((d) => d.name);
    assert.deepEqual(names, [...names].sort());
  });

  it('returns undefined for unknown names, including prototype keys', () => {
    assert.equal(getDefinition('io.k8s.api.core.v1.Nope'), undefined);
    assert.equal(getDefinition('toString'), undefined);
    assert.equal(getDefinition('__proto__'), undefined);
  });

  it('keeps types, formats, refs, required and patch metadata', () => {
    const pod = def(POD);
    assert.equal(pod.type, 'object');
    assert.deepEqual(pod.properties?.spec, { ref: POD_SPEC });
    const containers = def(POD_SPEC).properties?.containers;
    assert.deepEqual(containers, {
      type: 'array',
      items: { ref: CONTAINER },
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    });
    assert.deepEqual(def(POD_SPEC).required, ['containers']);
    assert.deepEqual(def(CONTAINER).required, ['name']);
    const meta = def(OBJECT_META);
    assert.deepEqual(meta.properties?.labels, { type: 'object', additionalProperties: { type: 'string' } });
    assert.deepEqual(meta.properties?.generation, { type: 'integer', format: 'int64' });
    assert.equal(meta.properties?.finalizers?.listType, 'set');
    assert.equal(def('io.k8s.api.core.v1.ObjectReference').mapType, 'atomic');
  });

  it('flags Quantity, IntOrString and free-form definitions', () => {
    assert.equal(def('io.k8s.apimachinery.pkg.api.resource.Quantity').quantity, true);
    const ios = def('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(ios.intOrString, true);
    assert.equal(ios.format, 'int-or-string');
    for (const name of [
      'io.k8s.apimachinery.pkg.runtime.RawExtension',
      'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
    ]) {
      assert.equal(def(name).preserveUnknownFields, true, name);
    }
    assert.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.Time').preserveUnknownFields, undefined);
  });

  it('carries enum values as data', () => {
    const restart = def(POD_SPEC).properties?.restartPolicy;
    assert.deepEqual(restart?.enum, ['Always', 'Never', 'OnFailure']);
    const pull = def(CONTAINER).properties?.imagePullPolicy;
    assert.deepEqual(pull?.enum, ['Always', 'IfNotPresent', 'Never']);
    // Upstream lists Cluster and Local twice; the table keeps each value once.
    const etp = def('io.k8s.api.core.v1.ServiceSpec').properties?.externalTrafficPolicy;
    assert.deepEqual(etp?.enum, ['Cluster', 'Local']);
  });
});

describe('definitionForGVK', () => {
  const cases: [string, string, string, string | undefined][] = [
    ['', 'v1', 'Pod', POD],
    ['apps', 'v1', 'Deployment', 'io.k8s.api.apps.v1.Deployment'],
    ['autoscaling', 'v1', 'Scale', 'io.k8s.api.autoscaling.v1.Scale'],
    ['autoscaling', 'v2', 'HorizontalPodAutoscaler', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler'],
    [
      'apiextensions.k8s.io',
      'v1',
      'CustomResourceDefinition',
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
    ],
    ['', 'v1', 'Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.Status'],
    ['', 'v1', 'DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'],
    ['apps', 'v1', 'DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'],
    ['batch', 'v1', 'WatchEvent', 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent'],
    ['', 'v1', 'Deployment', undefined],
    ['apps', 'v2', 'Deployment', undefined],
  ];
  for (const [group, version, kind, want] of cases) {
    it(`${group}/${version} ${kind} → ${want ?? 'none'}`, () => {
      assert.equal(definitionForGVK({ group, version, kind })?.name, want);
    });
  }

  it('lists the GVKs of a definition', () => {
    assert.deepEqual(gvksOf(POD), [{ group: '', version: 'v1', kind: 'Pod' }]);
    assert.ok(gvksOf('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions').length > 10, 'DeleteOptions GVKs');
    assert.deepEqual(gvksOf('io.k8s.api.core.v1.PodSpec'), []);
  });
});

describe('resolveNode / propertySchema / itemSchema', () => {
  it('follows refs to definitions and leaves other nodes alone', () => {
    assert.equal(resolveNode({ ref: POD }), getDefinition(POD));
    const plain: SchemaNode = { type: 'string' };
    assert.equal(resolveNode(plain), plain);
    assert.equal(resolveNode({ ref: 'io.k8s.nope.Missing' }), undefined);
  });

  it('walks properties through refs', () => {
    const spec = propertySchema(def(POD), 'spec');
    assert.deepEqual(spec, { ref: POD_SPEC });
    assert.ok(spec);
    const containers = propertySchema(spec, 'containers');
    assert.ok(containers);
    const item = itemSchema(containers);
    assert.deepEqual(item, { ref: CONTAINER });
    assert.ok(item);
    const resources = propertySchema(item, 'resources');
    assert.ok(resources);
    const limits = propertySchema(resources, 'limits');
    assert.ok(limits);
    // Map values: any key yields the value schema, here a ref to Quantity.
    const cpu = propertySchema(limits, 'cpu');
    assert.ok(cpu);
    assert.equal(resolveNode(cpu)?.quantity, true);
  });

  it('answers undefined for unknown properties of structs and for scalars', () => {
    assert.equal(propertySchema(def(POD), 'nope'), undefined);
    assert.equal(propertySchema({ type: 'string' }, 'x'), undefined);
    assert.equal(propertySchema(def(OBJECT_META), 'toString'), undefined);
    assert.equal(itemSchema({ type: 'string' }), undefined);
  });

  it('finds map values of additionalProperties', () => {
    const labels = propertySchema(def(OBJECT_META), 'labels');
    assert.ok(labels);
    assert.deepEqual(propertySchema(labels, 'app.kubernetes.io/name'), { type: 'string' });
  });

  it('recognises free-form nodes', () => {
    assert.equal(isFreeForm({ ref: 'io.k8s.apimachinery.pkg.runtime.RawExtension' }), true);
    assert.equal(isFreeForm({}), true);
    assert.equal(isFreeForm({ ref: POD }), false);
    assert.equal(isFreeForm({ type: 'string' }), false);
  });
});
