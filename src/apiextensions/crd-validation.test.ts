import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CustomResourceDefinition } from '../api/generated/types/apiextensions-v1.js';
import { fieldErrorMessage } from '../machinery/status-error.js';
import {
  validateCustomResourceDefinition,
  validateCustomResourceDefinitionUpdate,
} from './crd-validation.js';

function crd(mut: (c: CustomResourceDefinition) => void = () => {}): CustomResourceDefinition {
  const c: CustomResourceDefinition = {
    metadata: { name: 'widgets.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
    status: { storedVersions: ['v1'] },
  };
  mut(c);
  return c;
}

function messages(c: CustomResourceDefinition): string[] {
  return validateCustomResourceDefinition(c).map(fieldErrorMessage);
}

describe('validateCustomResourceDefinition', () => {
  it('accepts a valid CRD', () => {
    assert.deepEqual(messages(crd()), []);
  });

  const cases: Array<[string, (c: CustomResourceDefinition) => void, string]> = [
    [
      'name',
      (c) => (c.metadata!.name = 'x.stable.example.com'),
      'metadata.name: Invalid value: "x.stable.example.com": must be spec.names.plural+"."+spec.group',
    ],
    [
      'group dot',
      (c) => {
        c.spec.group = 'example';
        c.metadata!.name = 'widgets.example';
      },
      'spec.group: Invalid value: "example": should be a domain with at least one dot',
    ],
    [
      'scope',
      (c) => (c.spec.scope = 'Global'),
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    ],
    [
      'no storage',
      (c) => (c.spec.versions[0]!.storage = false),
      'must have exactly one version marked as storage version',
    ],
    [
      'duplicate version',
      (c) => c.spec.versions.push({ ...c.spec.versions[0]!, storage: false }),
      'must contain unique version names',
    ],
    [
      'schema',
      (c) => delete c.spec.versions[0]!.schema,
      'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
    ],
    [
      'kind',
      (c) => (c.spec.names.kind = 'Bad_Kind'),
      'spec.names.kind: Invalid value: "Bad_Kind": may have mixed case, but should otherwise match',
    ],
    [
      'listKind',
      (c) => (c.spec.names.listKind = 'Widget'),
      'spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same',
    ],
    [
      'scale path',
      (c) =>
        (c.spec.versions[0]!.subresources = {
          scale: { specReplicasPath: '.status.r', statusReplicasPath: '.status.r' },
        }),
      'spec.subresources.scale.specReplicasPath: Invalid value: ".status.r": should be a json path under .spec',
    ],
    [
      'column type',
      (c) =>
        (c.spec.versions[0]!.additionalPrinterColumns = [{ name: 'X', type: 'float', jsonPath: '.spec.x' }]),
      'spec.additionalPrinterColumns[0].type: Invalid value: "float": must be one of boolean,date,integer,number,string',
    ],
    [
      'stored versions',
      (c) => (c.status!.storedVersions = ['v1', 'v0']),
      'status.storedVersions[1]: Invalid value: "v0": must appear in spec.versions',
    ],
  ];
  for (const [what, mut, want] of cases) {
    it(what, () => {
      const got = messages(crd(mut));
      assert.ok(
        got.some((m) => m.includes(want)),
        `${want}\nnot in\n${got.join('\n')}`,
      );
    });
  }

  it('keeps group, plural and (once Established) scope immutable', () => {
    const old = crd((c) => {
      c.metadata!.resourceVersion = '1';
      c.status!.conditions = [{ type: 'Established', status: 'True' }];
    });
    const next = crd((c) => {
      c.metadata!.resourceVersion = '1';
      c.spec.scope = 'Cluster';
    });
    const msgs = validateCustomResourceDefinitionUpdate(next, old).map(fieldErrorMessage);
    assert.ok(
      msgs.some((m) => m.startsWith('spec.scope: Invalid value: "Cluster": field is immutable')),
      msgs.join('\n'),
    );
  });
});
