// kubectl 1.27 and 1.28 validate manifests against OpenAPI v2 only, which they ask for as
// gnostic protobuf (/openapi/v2, then /swagger-2.0.0.pb-v1). Against a real kts server the
// versioned binaries must `create -f` and `apply -f` a ConfigMap and a Deployment, and reject
// an unknown field. Each version runs as `kubectl` through a PATH holding only a symlink.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

// The versioned kubectl binaries sit beside the real `kubectl` on this machine.
function versionedKubectl(version: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'kubectl');
    if (!existsSync(p)) continue;
    const candidate = join(dirname(realpathSync(p)), `kubectl.${version}`);
    return existsSync(candidate) ? candidate : undefined;
  }
  return undefined;
}

function configMap(name: string, extra = ''): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n  a: b\n`;
}

function deployment(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: c
        image: busybox
        ports:
        - containerPort: 80
`;
}

let api: TestApiServer;
const binDirs: string[] = [];

before(async () => {
  api = await startTestApiServer();
});

after(async () => {
  await api.stop();
  for (const d of binDirs) rmSync(d, { recursive: true, force: true });
});

for (const version of ['1.27', '1.28']) {
  const binary = versionedKubectl(version);
  describe(`kubectl ${version} against OpenAPI v2 protobuf`, { skip: binary === undefined }, () => {
    let k: Kubectl;
    let env: Record<string, string>;
    const ns = `v${version.replace('.', '')}`;

    before(() => {
      const bin = mkdtempSync(join(tmpdir(), 'kts-kubectl-bin-'));
      binDirs.push(bin);
      symlinkSync(binary ?? '', join(bin, 'kubectl'));
      env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
      k = new Kubectl(api.server.kubeconfigPath);
    });

    after(() => k.cleanup());

    async function ok(args: string[]): Promise<string> {
      const r = await k.run(args, { env });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `kubectl ${args.join(' ')}`);
      return r.stdout;
    }

    it('runs the requested version', async () => {
      const out = await ok(['version', '--client', '-o', 'json']);
      const minor = (JSON.parse(out) as { clientVersion: { minor: string } }).clientVersion.minor;
      assert.equal(`1.${minor}`, version);
    });

    it('creates and applies a ConfigMap and a Deployment', async () => {
      await ok(['create', 'namespace', ns]);
      assert.match(
        await ok(['create', '-n', ns, '-f', k.file('cm.yaml', configMap('created'))]),
        /configmap\/created created/,
      );
      assert.match(
        await ok(['create', '-n', ns, '-f', k.file('dep.yaml', deployment('created'))]),
        /deployment.apps\/created created/,
      );
      assert.match(
        await ok(['apply', '-n', ns, '-f', k.file('cm2.yaml', configMap('applied'))]),
        /configmap\/applied created/,
      );
      const dep = k.file('dep2.yaml', deployment('applied'));
      assert.match(await ok(['apply', '-n', ns, '-f', dep]), /deployment.apps\/applied created/);
      assert.match(await ok(['apply', '-n', ns, '-f', dep]), /deployment.apps\/applied unchanged/);
    });

    it('rejects an unknown field', async () => {
      const bad = k.file('bad.yaml', configMap('bad', 'bogusField: 1\n'));
      const r = await k.run(['apply', '-n', ns, '-f', bad], { env });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown field "bogusField"/);
    });
  });
}

describe('OpenAPI v2 protobuf endpoints', () => {
  it('serves the gnostic document at /swagger-2.0.0.pb-v1', async () => {
    const k = new Kubectl(api.server.kubeconfigPath);
    try {
      const r = await k.run(['get', '--raw', '/swagger-2.0.0.pb-v1']);
      assert.equal(r.code, 0, r.stderr);
      // Field 1 (swagger) = "2.0", then field 2 (info).
      assert.ok(r.stdout.startsWith('\n\u00032.0\u0012'), JSON.stringify(r.stdout.slice(0, 8)));
    } finally {
      k.cleanup();
    }
  });
});
