import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CustomResourceDefinition } from '../api/generated/types/apiextensions-v1.js';
import { desiredStatus } from './crd-controller.js';

function crd(plural: string, kind: string, shortNames: string[] = []): CustomResourceDefinition {
  return {
    metadata: { name: `${plural}.example.com` },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural, kind, shortNames },
      versions: [{ name: 'v1', served: true, storage: true }],
    },
    status: { storedVersions: ['v1'] },
  };
}

const now = new Date('2024-01-01T00:00:00Z');

describe('desiredStatus (naming and establishing)', () => {
  it('accepts fresh names and establishes at once', () => {
    const c = crd('widgets', 'Widget', ['wd']);
    const s = desiredStatus(c, [c], now);
    assert.deepEqual(s?.acceptedNames, {
      plural: 'widgets',
      singular: 'widget',
      kind: 'Widget',
      listKind: 'WidgetList',
      shortNames: ['wd'],
    });
    const conds = Object.fromEntries((s?.conditions ?? []).map((x) => [x.type, x]));
    assert.equal(conds.NamesAccepted?.reason, 'NoConflicts');
    assert.equal(conds.Established?.status, 'True');
    assert.equal(conds.Established?.message, 'the initial names have been accepted');
    assert.equal(conds.Established?.lastTransitionTime, '2024-01-01T00:00:00Z');
  });

  it('refuses a name another CRD of the group accepted', () => {
    const first = crd('widgets', 'Widget', ['wd']);
    first.status = {
      ...first.status,
      acceptedNames: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'] },
    };
    const second = crd('gizmos', 'Gizmo', ['wd']);
    const s = desiredStatus(second, [first, second], now);
    const conds = Object.fromEntries((s?.conditions ?? []).map((x) => [x.type, x]));
    assert.equal(conds.NamesAccepted?.status, 'False');
    assert.equal(conds.NamesAccepted?.reason, 'ShortNamesConflict');
    assert.equal(conds.NamesAccepted?.message, '"wd" is already in use');
    assert.equal(conds.Established?.status, 'False');
    assert.equal(conds.Established?.reason, 'NotAccepted');
  });
});
