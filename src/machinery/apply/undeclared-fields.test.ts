import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveNode } from '../../api/schema.js';
import { StatusError } from '../status-error.js';
import { apply } from './index.js';
import { TypeContext } from './typed-value.js';
import { undeclaredFields } from './undeclared-fields.js';

const ctx = new TypeContext(resolveNode);
const DEPLOYMENT = { ref: 'io.k8s.api.apps.v1.Deployment' };
const SERVICE = { ref: 'io.k8s.api.core.v1.Service' };

describe('undeclaredFields', () => {
  const cases: Array<{ name: string; node: { ref: string }; value: unknown; want: string[] }> = [
    {
      name: 'declared fields and free-form maps pass',
      node: DEPLOYMENT,
      value: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd', labels: { anything: 'goes' }, annotations: { x: 'y' } },
        spec: { replicas: 1, selector: { matchLabels: { a: 'b' } } },
      },
      want: [],
    },
    {
      name: 'top-level and nested typos, keys sorted',
      node: DEPLOYMENT,
      value: { zeta: 1, spec: { replicaz: 2, selector: { matchLabelz: {} } }, alpha: true },
      want: [
        '.alpha: field not declared in schema',
        '.spec.replicaz: field not declared in schema',
        '.spec.selector.matchLabelz: field not declared in schema',
        '.zeta: field not declared in schema',
      ],
    },
    {
      name: 'map-list items by key, atomic-list items by index',
      node: DEPLOYMENT,
      value: {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'c', imagee: 'x', ports: [{ containerPort: 80, hostt: 1 }] }],
              imagePullSecrets: [{ name: 's', bad: 1 }],
              tolerations: [{ key: 'k', oops: 1 }],
            },
          },
        },
      },
      want: [
        '.spec.template.spec.containers[name="c"].imagee: field not declared in schema',
        '.spec.template.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].hostt: field not declared in schema',
        '.spec.template.spec.imagePullSecrets[name="s"].bad: field not declared in schema',
        '.spec.template.spec.tolerations[0].oops: field not declared in schema',
      ],
    },
    {
      name: 'int-or-string and quantities are scalars',
      node: SERVICE,
      value: { spec: { ports: [{ port: 80, targetPort: 'http' }] } },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(undeclaredFields(ctx, c.value, c.node), c.want));
  }
});

describe('apply of an undeclared field', () => {
  const base = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'ns' },
    data: { a: 'b' },
  };
  const opts = {
    manager: 'kubectl',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    schema: { ref: 'io.k8s.api.core.v1.ConfigMap' },
    now: new Date('2024-05-01T10:00:00Z'),
    force: false,
  };

  it('fails with upstream 500 text, one field', () => {
    assert.throws(
      () => apply(undefined, { ...base, bogus: 1 }, opts),
      (e: unknown) =>
        e instanceof StatusError &&
        e.code === 500 &&
        e.status.reason === undefined &&
        e.message ===
          'failed to create typed patch object (ns/cm; /v1, Kind=ConfigMap): .bogus: field not declared in schema',
    );
  });

  it('lists several fields under errors:', () => {
    assert.throws(
      () => apply(undefined, { ...base, bogus: 1, other: 2 }, opts),
      (e: unknown) =>
        e instanceof StatusError &&
        e.message ===
          'failed to create typed patch object (ns/cm; /v1, Kind=ConfigMap): errors:\n  .bogus: field not declared in schema\n  .other: field not declared in schema',
    );
  });

  it('an untyped apply accepts anything', () => {
    const r = apply(undefined, { ...base, bogus: 1 }, { ...opts, schema: undefined });
    assert.equal(r.object.bogus, 1);
  });
});
