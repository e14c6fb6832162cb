import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CustomResourceDefinition } from '../api/generated/types/apiextensions-v1.js';
import { ServedAPIs } from '../apiserver/served.js';
import { parseListQuery } from '../apiserver/registry/list-options.js';
import type { KObject } from '../apiserver/registry/object.js';
import type { WriteOptions } from '../apiserver/registry/store.js';
import { isBadRequest } from '../machinery/status-error.js';
import { MemoryStorage } from '../storage/memory.js';
import { customResourceStore } from './custom-resource-store.js';
import { customResourcePrinter } from './custom-resource-strategy.js';
import type { ServedCustomResource } from './registry.js';
import { resourceInfoFor, servedVersions } from './resource-info.js';
import { compileCustomResourceSchema } from './schema/index.js';

const wo = (subresource = ''): WriteOptions => ({
  dryRun: false,
  fieldManager: 't',
  subresource,
  warnings: [],
});

const crd: CustomResourceDefinition = {
  metadata: { name: 'widgets.stable.example.com', uid: 'u', generation: 1 },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        selectableFields: [{ jsonPath: '.spec.color' }],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { color: { type: 'string', default: 'blue' }, n: { type: 'integer' } },
              },
              status: { type: 'object', properties: { ready: { type: 'boolean' } } },
            },
          },
        },
      },
      {
        name: 'v2beta1',
        served: true,
        storage: false,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
  status: {
    acceptedNames: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
  },
};

function entry(version: string): ServedCustomResource {
  const v = crd.spec.versions.find((x) => x.name === version)!;
  return {
    crd,
    version,
    info: resourceInfoFor(crd, v),
    schema: compileCustomResourceSchema(v.schema!.openAPIV3Schema!),
  };
}

describe('custom resource Store', () => {
  const storage = new MemoryStorage();
  const v1 = customResourceStore(entry('v1'), storage);
  const beta = customResourceStore(entry('v2beta1'), storage);
  after(async () => {
    v1.cache.close();
    beta.cache.close();
    await storage.close();
  });

  it('defaults, drops status on create, and tracks generation on spec changes only', async () => {
    const created = await v1.create(
      'ns',
      {
        apiVersion: 'stable.example.com/v1',
        kind: 'Widget',
        metadata: { name: 'a' },
        spec: { n: 1 },
        status: { ready: true },
      },
      wo(),
    );
    assert.equal((created.spec as { color: string }).color, 'blue');
    assert.equal(created.status, undefined);
    assert.equal(created.metadata?.generation, 1);
    const labelled = await v1.guaranteedUpdate('ns', 'a', wo(), (cur) => ({
      ...cur!,
      metadata: { ...cur!.metadata, labels: { x: 'y' } },
    }));
    assert.equal(labelled.obj.metadata?.generation, 1);
    const status = await v1.guaranteedUpdate(
      'ns',
      'a',
      wo('status'),
      (cur) => ({ ...cur!, status: { ready: true }, spec: { n: 5 } }),
      { mode: 'status' },
    );
    assert.deepEqual(status.obj.status, { ready: true });
    assert.equal((status.obj.spec as { n: number }).n, 1);
    assert.equal(status.obj.metadata?.generation, 1);
    const spec = await v1.guaranteedUpdate('ns', 'a', wo(), (cur) => ({ ...cur!, spec: { n: 2 } }));
    assert.equal(spec.obj.metadata?.generation, 2);
    assert.deepEqual(spec.obj.status, { ready: true });
  });

  it('stores at the storage version and reads at each served version', async () => {
    const stored = await storage.get('/registry/stable.example.com/widgets/ns/a');
    assert.equal(JSON.parse(Buffer.from(stored!.value).toString()).apiVersion, 'stable.example.com/v1');
    const got = await beta.get('ns', 'a');
    assert.equal(got.apiVersion, 'stable.example.com/v2beta1');
    const listed = await beta.list('', parseListQuery(new URLSearchParams(), false));
    assert.match(listed.items[0]!.json, /"apiVersion":"stable\.example\.com\/v2beta1"/);
    await beta.create(
      'ns',
      { apiVersion: 'stable.example.com/v2beta1', kind: 'Widget', metadata: { name: 'b' }, spec: {} },
      wo(),
    );
    const viaV1 = await v1.get('ns', 'b');
    assert.equal(viaV1.apiVersion, 'stable.example.com/v1');
    // Read through v1, the object gets v1's defaults.
    assert.equal((viaV1.spec as { color: string }).color, 'blue');
  });

  it('selects on declared selectable fields only', async () => {
    const q = (fs: string) => parseListQuery(new URLSearchParams({ fieldSelector: fs }), false);
    const page = await v1.list('ns', q('spec.color=blue'));
    assert.deepEqual(
      page.items.map((e) => e.name),
      ['a', 'b'],
    );
    await assert.rejects(v1.list('ns', q('spec.n=1')), (e: unknown) => isBadRequest(e));
  });

  it('prints NAME and AGE without printer columns', () => {
    const p = customResourcePrinter(crd.spec.versions[0]!);
    assert.deepEqual(
      p.columns.map((c) => c.name),
      ['Name', 'Age'],
    );
    const cells = p.cells({ metadata: { name: 'a', creationTimestamp: '2024-01-01T00:00:00Z' } } as KObject, {
      nowMs: Date.parse('2024-01-01T00:05:00Z'),
    });
    assert.deepEqual(cells, ['a', '5m']);
  });
});

describe('ServedAPIs', () => {
  it('adds custom groups after the built-ins, versions by priority, and notifies', () => {
    const served = new ServedAPIs();
    let changes = 0;
    served.onChange(() => changes++);
    const entries = servedVersions(crd).map((v) => entry(v.name));
    served.custom.set('widgets.stable.example.com', entries);
    assert.equal(changes, 1);
    const g = served.groups().find((x) => x.name === 'stable.example.com');
    assert.deepEqual(g, { name: 'stable.example.com', versions: ['v1', 'v2beta1'], preferredVersion: 'v1' });
    assert.equal(served.groups().at(-1)?.name, 'stable.example.com');
    assert.equal(served.resource('stable.example.com', 'v2beta1', 'widgets')?.kind, 'Widget');
    assert.ok(served.customResource('stable.example.com', 'v1', 'widgets'));
    assert.equal(served.customResource('', 'v1', 'pods'), undefined);
    served.custom.set('widgets.stable.example.com', entries);
    assert.equal(changes, 1);
    served.custom.set('widgets.stable.example.com', []);
    assert.equal(changes, 2);
    assert.equal(served.resource('stable.example.com', 'v1', 'widgets'), undefined);
  });
});
