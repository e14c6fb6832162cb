import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../machinery/status-error.js';
import { definitionForGVK } from '../schema.js';
import type { DefinitionSchema } from '../schema-types.js';
import { base64ErrorOffset, quantityError, validateSchema } from './schema-validate.js';

// A small hand-made table in the generated table's shape, so these tests do not depend on
// the generator.
const defs: Record<string, DefinitionSchema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    type: 'object',
    properties: {
      name: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      creationTimestamp: { ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time' },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
    type: 'string',
    format: 'date-time',
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    name: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
    type: 'string',
    quantity: true,
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    name: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    type: 'string',
    format: 'int-or-string',
    intOrString: true,
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    name: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
    type: 'object',
    preserveUnknownFields: true,
  },
  'io.k8s.api.apps.v1.Deployment': {
    name: 'io.k8s.api.apps.v1.Deployment',
    type: 'object',
    gvk: [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      spec: { ref: 'io.k8s.api.apps.v1.DeploymentSpec' },
    },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    name: 'io.k8s.api.apps.v1.DeploymentSpec',
    type: 'object',
    properties: {
      replicas: { type: 'integer', format: 'int32' },
      paused: { type: 'boolean' },
      template: { ref: 'io.k8s.api.core.v1.PodTemplateSpec' },
      extra: { ref: 'io.k8s.apimachinery.pkg.runtime.RawExtension' },
    },
  },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    name: 'io.k8s.api.core.v1.PodTemplateSpec',
    type: 'object',
    properties: {
      metadata: { ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      spec: { ref: 'io.k8s.api.core.v1.PodSpec' },
    },
  },
  'io.k8s.api.core.v1.PodSpec': {
    name: 'io.k8s.api.core.v1.PodSpec',
    type: 'object',
    properties: {
      containers: { type: 'array', items: { ref: 'io.k8s.api.core.v1.Container' } },
      activeDeadlineSeconds: { type: 'integer', format: 'int64' },
    },
  },
  'io.k8s.api.core.v1.Container': {
    name: 'io.k8s.api.core.v1.Container',
    type: 'object',
    properties: {
      name: { type: 'string' },
      ports: { type: 'array', items: { ref: 'io.k8s.api.core.v1.ContainerPort' } },
      resources: { ref: 'io.k8s.api.core.v1.ResourceRequirements' },
      readinessProbe: {
        type: 'object',
        properties: { port: { ref: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' } },
      },
    },
  },
  'io.k8s.api.core.v1.ContainerPort': {
    name: 'io.k8s.api.core.v1.ContainerPort',
    type: 'object',
    properties: { containerPort: { type: 'integer', format: 'int32' } },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    name: 'io.k8s.api.core.v1.ResourceRequirements',
    type: 'object',
    properties: {
      limits: {
        type: 'object',
        additionalProperties: { ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' },
      },
    },
  },
  'io.k8s.api.core.v1.Secret': {
    name: 'io.k8s.api.core.v1.Secret',
    type: 'object',
    gvk: [{ group: '', version: 'v1', kind: 'Secret' }],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      data: { type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
    },
  },
};
const lookup = (n: string) => defs[n];
const deployment = defs['io.k8s.api.apps.v1.Deployment']!;

function deploy(spec: unknown, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec, ...extra };
}

function errorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  assert.fail('expected a StatusError');
}

describe('validateSchema: decode type errors (any mode)', () => {
  const prefix = 'Deployment in version "v1" cannot be handled as a Deployment: ';
  const cases: { name: string; spec: unknown; msg: string }[] = [
    {
      name: 'string into int32',
      spec: { replicas: '3' },
      msg: 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    },
    {
      name: 'fraction into int32',
      spec: { replicas: 1.5 },
      msg: 'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32',
    },
    {
      name: 'overflow int32',
      spec: { replicas: 3000000000 },
      msg: 'json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32',
    },
    {
      name: 'string into bool',
      spec: { paused: 'yes' },
      msg: 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool',
    },
    {
      name: 'nested through arrays, no indices in the Go path',
      spec: { template: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 'x' }] }] } } },
      msg: 'json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32',
    },
    {
      name: 'object into array',
      spec: { template: { spec: { containers: {} } } },
      msg: 'json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container',
    },
    {
      name: 'string into struct',
      spec: { template: 'x' },
      msg: 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.template of type v1.PodTemplateSpec',
    },
    {
      name: 'map value: key not in the path',
      spec: { template: { metadata: { labels: { app: 1 } } } },
      msg: 'json: cannot unmarshal number into Go struct field ObjectMeta.spec.template.metadata.labels of type string',
    },
    {
      name: 'int-or-string given an object',
      spec: { template: { spec: { containers: [{ readinessProbe: { port: {} } }] } } },
      msg: 'json: cannot unmarshal object into Go struct field .spec.template.spec.containers.readinessProbe.port of type int32',
    },
    {
      name: 'bad quantity',
      spec: { template: { spec: { containers: [{ resources: { limits: { cpu: 'lots' } } }] } } },
      msg: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    },
    {
      name: 'bad quantity suffix',
      spec: { template: { spec: { containers: [{ resources: { limits: { memory: '1kk' } } }] } } },
      msg: "unable to parse quantity's suffix",
    },
    {
      name: 'bad time',
      spec: { template: { metadata: { creationTimestamp: 'yesterday' } } },
      msg: 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = errorOf(() => validateSchema(deploy(c.spec), deployment, { mode: 'Ignore', lookup }));
      assert.equal(e.code, 400);
      assert.equal(e.reason, 'BadRequest');
      assert.equal(e.message, prefix + c.msg);
    });
  }

  it('without a kind the message says the object is unrecognized', () => {
    const e = errorOf(() =>
      validateSchema({ spec: { replicas: 'x' } }, deployment, { mode: 'Strict', lookup }),
    );
    assert.match(e.message, /^the object provided is unrecognized \(must be of type Deployment\): json: /);
  });

  it('accepts valid values of every kind, and null anywhere', () => {
    const ok = deploy({
      replicas: 3,
      paused: null,
      extra: { anything: [1, { goes: true }] },
      template: {
        metadata: { creationTimestamp: '2024-01-02T03:04:05Z', labels: { a: 'b' } },
        spec: {
          activeDeadlineSeconds: 9007199254740991,
          containers: [
            {
              name: 'c',
              readinessProbe: { port: 'http' },
              resources: { limits: { cpu: 0.5, memory: '1Gi' } },
            },
          ],
        },
      },
    });
    assert.deepEqual(validateSchema(ok, deployment, { mode: 'Strict', lookup }), { warnings: [] });
  });

  it('secret data must be valid base64', () => {
    const e = errorOf(() =>
      validateSchema(
        { apiVersion: 'v1', kind: 'Secret', data: { a: 'abc' } },
        defs['io.k8s.api.core.v1.Secret']!,
        {
          mode: 'Strict',
          lookup,
        },
      ),
    );
    assert.equal(
      e.message,
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0',
    );
  });
});

describe('validateSchema: unknown and duplicate fields', () => {
  const obj = () =>
    deploy(
      { replicas: 1, foo: 1, template: { spec: { containers: [{ name: 'a', bar: 2 }] } } },
      { extra: 1 },
    );

  it('Strict fails with every problem in one message', () => {
    const e = errorOf(() =>
      validateSchema(obj(), deployment, { mode: 'Strict', lookup, duplicates: ['replicas'] }),
    );
    assert.equal(e.code, 400);
    assert.equal(
      e.message,
      'strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar", unknown field "extra", duplicate field "replicas"',
    );
  });

  it('Warn returns one warning per problem', () => {
    const r = validateSchema(obj(), deployment, { mode: 'Warn', lookup, duplicates: ['replicas'] });
    assert.deepEqual(r.warnings, [
      'unknown field "spec.foo"',
      'unknown field "spec.template.spec.containers[0].bar"',
      'unknown field "extra"',
      'duplicate field "replicas"',
    ]);
  });

  it('Ignore says nothing', () => {
    assert.deepEqual(validateSchema(obj(), deployment, { mode: 'Ignore', lookup, duplicates: ['x'] }), {
      warnings: [],
    });
  });

  it('type errors win over unknown fields', () => {
    const e = errorOf(() =>
      validateSchema(deploy({ foo: 1, replicas: 'x' }), deployment, { mode: 'Warn', lookup }),
    );
    assert.match(e.message, /cannot unmarshal string/);
  });

  it('preserve-unknown-fields subtrees are not inspected', () => {
    const r = validateSchema(deploy({ extra: { a: { b: 1 } } }), deployment, { mode: 'Strict', lookup });
    assert.deepEqual(r.warnings, []);
  });
});

describe('helpers', () => {
  it('base64 offsets follow Go', () => {
    const cases: [string, number][] = [
      ['', -1],
      ['YWJj', -1],
      ['YWI=', -1],
      ['YQ==', -1],
      ['YWJ\njZA==', -1],
      ['YWJ', 0],
      ['YW!j', 2],
      ['YQ=', 3],
      ['Y===', 1],
      ['YQ==YQ==', 4],
      ['YQ=x', 2],
    ];
    for (const [s, at] of cases) assert.equal(base64ErrorOffset(s), at, s);
  });

  it('quantities follow resource.ParseQuantity', () => {
    for (const ok of ['1', '100m', '1.5Gi', '1e3', '1E', '-1', '+2k', '0.5', '.5', '1.']) {
      assert.equal(quantityError(ok), undefined, ok);
    }
    assert.match(quantityError('abc') ?? '', /^quantities must match/);
    assert.match(quantityError('') ?? '', /^quantities must match/);
    assert.match(quantityError('1Gb') ?? '', /^quantities must match/);
    assert.equal(quantityError('1Ki2'), "unable to parse quantity's suffix");
    assert.equal(quantityError('1e'), "unable to parse quantity's suffix");
  });
});

describe('validateSchema against the generated table', () => {
  it('a Deployment with a wrong type and an unknown field', () => {
    const def = definitionForGVK({ group: 'apps', version: 'v1', kind: 'Deployment' })!;
    const obj = (replicas: unknown) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', labels: { a: 'b' } },
      spec: {
        replicas,
        selector: { matchLabels: { a: 'b' } },
        strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels: { a: 'b' }, creationTimestamp: null },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'nginx',
                resources: { limits: { cpu: '1' } },
                ports: [{ containerPort: 80 }],
                foo: 1,
              },
            ],
          },
        },
      },
    });
    assert.deepEqual(validateSchema(obj(2), def, { mode: 'Warn' }).warnings, [
      'unknown field "spec.template.spec.containers[0].foo"',
    ]);
    const e = errorOf(() => validateSchema(obj('2'), def, { mode: 'Strict' }));
    assert.equal(
      e.message,
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
  });
});
