// The generated API modules are exactly what `npm run gen` writes today (so nobody edits them
// by hand and nobody forgets to regenerate), and the generator's parsing rules hold. The
// freshness check needs the upstream reference data and is skipped where it is absent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GENERATED_HEADER, makeContext } from '../../scripts/gen/context.js';
import { enumFromDescription, SWAGGER_PATH } from '../../scripts/gen/openapi-model.js';
import { compareGroups, compareVersions } from '../../scripts/gen/resource-facts.js';
import { generate as generateResources, parseResourcePath } from '../../scripts/gen/resources.gen.js';
import { generate as generateSchemas } from '../../scripts/gen/schemas.gen.js';
import { generate as generateTypes, moduleStemOf } from '../../scripts/gen/types.gen.js';

const ctx = makeContext();
const haveData = existsSync(join(ctx.shared, SWAGGER_PATH));

describe('generated API modules', () => {
  it('are up to date and start with the generated header', { skip: !haveData && 'no reference data' }, () => {
    const files = [...generateTypes(ctx), ...generateSchemas(ctx), ...generateResources(ctx)];
    assert.ok(files.length > 30);
    for (const f of files) {
      assert.ok(f.content.startsWith(GENERATED_HEADER), f.path);
      assert.ok(f.path.startsWith('src/api/generated/'), f.path);
      const onDisk = readFileSync(join(ctx.root, f.path), 'utf8');
      assert.ok(onDisk === f.content, `${f.path} is stale: run npm run gen`);
    }
  });

  it('are deterministic', { skip: !haveData && 'no reference data' }, () => {
    const a = generateResources(ctx).map((f) => f.content);
    const b = generateResources(ctx).map((f) => f.content);
    assert.deepEqual(a, b);
  });
});

describe('parseResourcePath', () => {
  const cases: [string, ReturnType<typeof parseResourcePath>][] = [
    ['/api/v1/pods', { group: '', version: 'v1', namespaced: false, plural: 'pods', named: false }],
    [
      '/api/v1/namespaces/{namespace}/pods/{name}/exec',
      { group: '', version: 'v1', namespaced: true, plural: 'pods', named: true, subresource: 'exec' },
    ],
    [
      '/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}',
      { group: '', version: 'v1', namespaced: true, plural: 'pods', named: true, subresource: 'proxy' },
    ],
    [
      '/api/v1/namespaces/{name}',
      { group: '', version: 'v1', namespaced: false, plural: 'namespaces', named: true },
    ],
    [
      '/api/v1/namespaces/{name}/finalize',
      {
        group: '',
        version: 'v1',
        namespaced: false,
        plural: 'namespaces',
        named: true,
        subresource: 'finalize',
      },
    ],
    [
      '/apis/apps/v1/watch/namespaces/{namespace}/deployments',
      { group: 'apps', version: 'v1', namespaced: true, plural: 'deployments', named: false },
    ],
    ['/apis/apps/v1/', undefined],
    ['/api/v1/', undefined],
    ['/apis/', undefined],
    ['/version/', undefined],
    ['/logs/{logpath}', undefined],
  ];
  for (const [path, want] of cases) {
    it(path, () => assert.deepEqual(parseResourcePath(path), want));
  }
});

describe('generator helpers', () => {
  it('orders versions like upstream', () => {
    const sorted = ['v1alpha1', 'v1beta1', 'v1', 'v2', 'v1beta2', 'v2alpha1', 'foo', 'v10'].sort(
      compareVersions,
    );
    assert.deepEqual(sorted, ['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v2alpha1', 'v1alpha1', 'foo']);
  });

  it('orders groups core first, then upstream priority, then unknown groups by name', () => {
    const sorted = [
      'zeta.example.com',
      'batch',
      'apps',
      '',
      'alpha.example.com',
      'apiregistration.k8s.io',
    ].sort(compareGroups);
    assert.deepEqual(sorted, [
      '',
      'apiregistration.k8s.io',
      'apps',
      'batch',
      'alpha.example.com',
      'zeta.example.com',
    ]);
  });

  it('extracts enum values, and only them, from upstream descriptions', () => {
    const text =
      'Policy.\n\nPossible enum values:\n - `"Always"` means always.\n - `"Never"` never.\n - `"Always"` dup';
    assert.deepEqual(enumFromDescription(text), ['Always', 'Never']);
    assert.equal(enumFromDescription('One of Always, Never.'), undefined);
    assert.equal(enumFromDescription(undefined), undefined);
  });

  it('names type modules after group and version', () => {
    assert.equal(moduleStemOf('io.k8s.api.core.v1'), 'core-v1');
    assert.equal(moduleStemOf('io.k8s.api.resource.v1beta2'), 'resource-v1beta2');
    assert.equal(moduleStemOf('io.k8s.apimachinery.pkg.apis.meta.v1'), 'meta-v1');
    assert.equal(moduleStemOf('io.k8s.apimachinery.pkg.api.resource'), 'quantity');
    assert.throws(() => moduleStemOf('io.example.unknown'));
  });
});
