// CustomResourceDefinitions end to end with the real kubectl: a CRD is applied, becomes
// Established, and its custom resources are served (discovery, Tables with printer
// columns, short names, categories, strict field validation, schema validation, defaulting,
// the status and scale subresources, patches, server-side apply, watch); a cluster-scoped
// CRD and one with two versions; deleting a CRD removes its objects and its discovery, and
// deleting a namespace removes the custom objects in it (the controller manager's namespace
// controller and garbage collector find custom resources through their client).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceAccountClientBuilder } from '../src/client/controller-client-builder.js';
import { gvr } from '../src/client/interface.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient } from '../src/client/rest-client.js';
import { ControllerManager } from '../src/controllers/manager.js';
import { controllerRegistry } from '../src/controllers/registry.js';
import { isNotFound } from '../src/machinery/status-error.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

const WIDGETS_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Color
      type: string
      jsonPath: .spec.color
      priority: 1
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas:
                type: integer
                minimum: 0
              color:
                type: string
                default: blue
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
`;

const GADGETS_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.infra.example.com
spec:
  group: infra.example.com
  scope: Cluster
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

let srv: TestApiServer;
let kubectl: Kubectl;
let client: RestClient;
let builder: ServiceAccountClientBuilder;
const ac = new AbortController();
let managerRun: Promise<void>;

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function fails(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl.run(args, stdin !== undefined ? { stdin } : {});
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail: ${r.stdout}`);
  return r.stderr;
}

before(async () => {
  srv = await startTestApiServer('memory://', ['default', 'team']);
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  client = new RestClient(loadKubeconfig(srv.server.kubeconfigPath));
  builder = new ServiceAccountClientBuilder({ client, config: loadKubeconfig(srv.server.kubeconfigPath) });
  managerRun = new ControllerManager({
    client,
    clientBuilder: builder,
    registry: controllerRegistry,
    controllers: ['namespace', 'garbage-collector'],
  }).run(ac.signal);
  await kubectl.ok(['apply', '-f', '-'], { stdin: WIDGETS_CRD });
  await kubectl.ok([
    'wait',
    '--for',
    'condition=established',
    'crd/widgets.stable.example.com',
    '--timeout=10s',
  ]);
});

after(async () => {
  ac.abort();
  await managerRun;
  builder.close();
  client.close();
  kubectl.cleanup();
  await srv.stop();
});

describe('custom resources with kubectl', () => {
  it('sets the CRD status and serves the resource in discovery', async () => {
    const crd = JSON.parse(await kubectl.ok(['get', 'crd', 'widgets.stable.example.com', '-o', 'json']));
    assert.deepEqual(crd.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
    assert.deepEqual(crd.status.storedVersions, ['v1']);
    assert.equal(crd.status.acceptedNames.kind, 'Widget');
    const conds = Object.fromEntries(crd.status.conditions.map((c: { type: string }) => [c.type, c]));
    assert.equal(conds.NamesAccepted.reason, 'NoConflicts');
    assert.equal(conds.Established.reason, 'InitialNamesAccepted');
    assert.equal(conds.Established.message, 'the initial names have been accepted');
    const out = await kubectl.ok(['api-resources', '--api-group=stable.example.com']);
    assert.match(out, /widgets\s+wd\s+stable\.example\.com\/v1\s+true\s+Widget/);
  });

  it('creates, lists and prints custom objects with printer columns and defaults', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: 'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {replicas: 2}\n',
    });
    const table = await kubectl.ok(['get', 'widgets']);
    assert.match(table, /^NAME\s+REPLICAS\s+AGE\n/);
    assert.match(table, /\nw1\s+2\s+\d+s\n/);
    const wide = await kubectl.ok(['get', 'wd', '-o', 'wide']);
    assert.match(wide, /^NAME\s+REPLICAS\s+COLOR\s+AGE\n/);
    assert.match(wide, /\nw1\s+2\s+blue\s+/);
    const all = await kubectl.ok(['get', 'all']);
    assert.match(all, /widget\.stable\.example\.com\/w1/);
    const w = JSON.parse(await kubectl.ok(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(w.spec.color, 'blue');
    assert.equal(w.metadata.generation, 1);
  });

  it('rejects unknown fields under Strict and invalid values with a 422', async () => {
    const unknown = await fails(
      ['apply', '-f', '-'],
      'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {foo: 1}\n',
    );
    assert.match(unknown, /strict decoding error: unknown field "spec\.foo"/);
    const warn = await kubectl.run(['create', '--validate=warn', '-f', '-'], {
      stdin: 'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {foo: 1}\n',
    });
    assert.equal(warn.code, 0, warn.stderr);
    assert.match(warn.stderr, /unknown field "spec\.foo"/);
    const bad = await fails(
      ['apply', '-f', '-'],
      'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: w4}\nspec: {replicas: -1}\n',
    );
    assert.match(
      bad,
      /The Widget "w4" is invalid: spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/,
    );
  });

  it('scales through the scale subresource and writes status through /status', async () => {
    await kubectl.ok(['scale', 'widget/w1', '--replicas', '3']);
    await kubectl.ok([
      'patch',
      'widget',
      'w1',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"status":{"replicas":3,"selector":"app=w"}}',
    ]);
    // The main resource ignores status; /status ignores everything else.
    await kubectl.ok(['patch', 'widget', 'w1', '--type', 'merge', '-p', '{"status":{"replicas":9}}']);
    await kubectl.ok([
      'patch',
      'widget',
      'w1',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"spec":{"replicas":9}}',
    ]);
    const out = await kubectl.ok([
      'get',
      'wd',
      'w1',
      '-o',
      'jsonpath={.spec.replicas} {.status.replicas} {.metadata.generation}',
    ]);
    assert.equal(out, '3 3 2');
    const scale = JSON.parse(
      await kubectl.ok(['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/widgets/w1/scale']),
    );
    assert.deepEqual(
      [scale.kind, scale.spec.replicas, scale.status.replicas, scale.status.selector],
      ['Scale', 3, 3, 'app=w'],
    );
  });

  it('patches with merge and JSON patches, refuses strategic merge, and applies server-side', async () => {
    await kubectl.ok([
      'patch',
      'widget',
      'w1',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/color","value":"red"}]',
    ]);
    const smp = await fails(['patch', 'widget', 'w1', '-p', '{"spec":{"color":"green"}}']);
    assert.match(smp, /application\/strategic-merge-patch\+json is not supported/);
    await kubectl.ok(['apply', '--server-side', '--field-manager=tool', '-f', '-'], {
      stdin:
        'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: w5}\nspec: {replicas: 1, tags: [a]}\n',
    });
    await kubectl.ok(['apply', '--server-side', '--field-manager=other', '-f', '-'], {
      stdin: 'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: w5}\nspec: {tags: [b]}\n',
    });
    const w5 = JSON.parse(await kubectl.ok(['get', 'widget', 'w5', '-o', 'json']));
    assert.deepEqual(w5.spec.tags, ['a', 'b']);
    assert.equal(w5.spec.replicas, 1);
    const color = await kubectl.ok(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.color}']);
    assert.equal(color, 'red');
  });

  it('watches custom objects', async () => {
    const child = spawn('kubectl', ['get', 'widgets', '--watch', '-o', 'name'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: kubectl.home,
        KUBECACHEDIR: join(kubectl.home, 'cache'),
        KUBECONFIG: srv.server.kubeconfigPath,
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await until('initial list', async () => out.includes('widget.stable.example.com/w1'));
      await kubectl.ok(['create', '-f', '-'], {
        stdin: 'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: watched}\nspec: {}\n',
      });
      await until('watch event', async () => out.includes('widget.stable.example.com/watched'));
    } finally {
      child.kill();
    }
  });

  it('serves a cluster-scoped CRD at two versions, stored at the storage version', async () => {
    await kubectl.ok(['apply', '-f', '-'], { stdin: GADGETS_CRD });
    await kubectl.ok([
      'wait',
      '--for',
      'condition=established',
      'crd/gadgets.infra.example.com',
      '--timeout=10s',
    ]);
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: 'apiVersion: infra.example.com/v1beta1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 3}\n',
    });
    const v1 = JSON.parse(await kubectl.ok(['get', '--raw', '/apis/infra.example.com/v1/gadgets/g1']));
    assert.equal(v1.apiVersion, 'infra.example.com/v1');
    assert.equal(v1.spec.size, 3);
    const beta = JSON.parse(await kubectl.ok(['get', '--raw', '/apis/infra.example.com/v1beta1/gadgets/g1']));
    assert.equal(beta.apiVersion, 'infra.example.com/v1beta1');
    const group = JSON.parse(await kubectl.ok(['get', '--raw', '/apis/infra.example.com']));
    assert.equal(group.preferredVersion.version, 'v1');
    assert.deepEqual(
      group.versions.map((v: { version: string }) => v.version),
      ['v1', 'v1beta1'],
    );
    const stored = await srv.server.storage.get('/registry/infra.example.com/gadgets/g1');
    assert.equal(JSON.parse(Buffer.from(stored!.value).toString()).apiVersion, 'infra.example.com/v1');
    assert.match(await kubectl.ok(['get', 'gadgets']), /\ng1\s+\d+s\n/);
  });

  it('deleting a namespace removes its custom objects', async () => {
    await kubectl.ok(['create', 'namespace', 'doomed']);
    await kubectl.ok(['create', '-n', 'doomed', '-f', '-'], {
      stdin: 'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: inside}\nspec: {}\n',
    });
    await kubectl.ok(['delete', 'namespace', 'doomed', '--wait=false']);
    const widgets = client.resource(gvr('stable.example.com', 'v1', 'widgets'));
    await until('namespace gone', async () => {
      try {
        await client.resource(gvr('', 'v1', 'namespaces')).get('', 'doomed');
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    assert.equal((await widgets.list('doomed')).items.length, 0);
  });

  it('garbage-collects custom objects and their dependents by owner references', async () => {
    const owner = JSON.parse(
      await kubectl.ok(['create', '-o', 'json', '-f', '-'], {
        stdin: 'apiVersion: stable.example.com/v1\nkind: Widget\nmetadata: {name: owner}\nspec: {}\n',
      }),
    );
    const ref = {
      apiVersion: 'stable.example.com/v1',
      kind: 'Widget',
      name: 'owner',
      uid: owner.metadata.uid,
    };
    await kubectl.ok(['create', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'owned', ownerReferences: [ref] },
      }),
    });
    const cm = JSON.parse(await kubectl.ok(['get', 'configmap', 'owned', '-o', 'json']));
    const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owned', uid: cm.metadata.uid };
    await kubectl.ok(['create', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'stable.example.com/v1',
        kind: 'Widget',
        metadata: { name: 'grandchild', ownerReferences: [cmRef] },
        spec: {},
      }),
    });
    await kubectl.ok(['delete', 'widget', 'owner']);
    const widgets = client.resource(gvr('stable.example.com', 'v1', 'widgets'));
    await until('dependents collected', async () => {
      const left = (await widgets.list('default')).items.map((w) => w.metadata?.name);
      const cms = (await client.resource(gvr('', 'v1', 'configmaps')).list('default')).items.map(
        (c) => c.metadata?.name,
      );
      return !left.includes('grandchild') && !cms.includes('owned');
    });
  });

  it('deleting a CRD removes its objects and its discovery', async () => {
    await kubectl.ok(['delete', 'crd', 'widgets.stable.example.com']);
    const groups = JSON.parse(await kubectl.ok(['get', '--raw', '/apis']));
    assert.ok(!groups.groups.some((g: { name: string }) => g.name === 'stable.example.com'));
    const keys = await srv.server.storage.list('/registry/stable.example.com/widgets/');
    assert.equal(keys.items.length, 0);
    const err = await fails(['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/widgets']);
    assert.match(err, /NotFound|not found/);
  });

  it('refuses an invalid CRD with upstream messages', async () => {
    const err = await fails(
      ['apply', '-f', '-'],
      `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: other.example.com
  scope: Namespaced
  names: {plural: things, kind: Thing}
  versions:
  - {name: v1, served: true, storage: false, schema: {openAPIV3Schema: {type: object}}}
`,
    );
    assert.match(
      err,
      /metadata\.name: Invalid value: "things\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/,
    );
    assert.match(err, /must have exactly one version marked as storage version/);
  });
});
