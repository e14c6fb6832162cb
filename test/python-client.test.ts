// The official Python client (Debian's python3-kubernetes) against a kts API server: it
// loads the admin kubeconfig (verifying the serving certificate against the kubeconfig's CA
// and the 127.0.0.1 SAN, and presenting the client certificate), creates, lists and reads
// pods, and watches from a list's resourceVersion while this test writes a pod. The script
// (test/python/list_watch_pods.py) reports what it saw as JSON lines on stdout.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const SCRIPT = fileURLToPath(new URL('./python/list_watch_pods.py', import.meta.url));
const NAMESPACE = 'default';
const WATCHED = 'py-watched';

// Debian installs the module for /usr/bin/python3; a `python3` earlier on PATH (pyenv,
// a virtualenv) may lack it, so the first interpreter that can import it is used.
function findPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(candidate, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

interface SeenEvent {
  type: string;
  name: string;
  resourceVersion: string;
  labels: Record<string, string>;
  model: string;
}

interface Report {
  phase: 'done';
  created: { name: string; uid: string; phase: string; createdIsDatetime: boolean };
  listed: { kind: string; apiVersion: string; names: string[]; resourceVersion: string };
  notFound: { code: number; body: Record<string, unknown> } | null;
  events: SeenEvent[];
  deletedName: string;
  remaining: string[];
}

let api: TestApiServer;
let child: ChildProcess | undefined;

before(async () => {
  api = await startTestApiServer();
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await api.stop();
});

/** Sends one request to the API server with the admin credentials, as kubectl would. */
async function kube(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<void> {
  const cfg = parse(readFileSync(api.server.kubeconfigPath, 'utf8')) as {
    clusters: Array<{ cluster: { 'certificate-authority-data': string } }>;
    users: Array<{ user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  };
  const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString();
  const url = new URL(path, api.server.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: unb64(cfg.clusters[0]?.cluster['certificate-authority-data']),
        cert: unb64(cfg.users[0]?.user['client-certificate-data']),
        key: unb64(cfg.users[0]?.user['client-key-data']),
        headers: payload ? { 'Content-Type': contentType } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve();
          else reject(new Error(`${method} ${path}: ${code} ${Buffer.concat(chunks).toString()}`));
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('python kubernetes client', () => {
  it('creates, lists and watches pods', { timeout: 20_000 }, async () => {
    const python = findPython();
    assert.ok(python, 'the Python kubernetes client is missing: apt-get install python3-kubernetes');
    const proc = spawn(python, [SCRIPT, api.server.kubeconfigPath, NAMESPACE, WATCHED], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const lines: Array<Record<string, unknown>> = [];
    let writes: Promise<void> | undefined;
    for await (const line of createInterface({ input: proc.stdout })) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      lines.push(rec);
      if (rec.phase === 'error') break;
      if (rec.phase === 'watching') {
        // The script watches from a resourceVersion taken before this line, so these
        // writes are seen whether or not its watch request has reached the server yet.
        writes = (async () => {
          const pod = {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: WATCHED, labels: { step: 'one' } },
            spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
          };
          await kube('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, pod);
          await kube(
            'PATCH',
            `/api/v1/namespaces/${NAMESPACE}/pods/${WATCHED}`,
            { metadata: { labels: { step: 'two' } } },
            'application/merge-patch+json',
          );
          await kube('DELETE', `/api/v1/namespaces/${NAMESPACE}/pods/${WATCHED}?gracePeriodSeconds=0`);
        })();
      }
    }
    await writes;
    const code = await exited;
    const last = lines.at(-1);
    assert.equal(code, 0, `python exited ${code}: ${JSON.stringify(last)}\n${stderr}`);
    assert.equal(last?.phase, 'done', stderr);
    const r = last as unknown as Report;

    assert.equal(r.created.name, 'py-created');
    assert.match(r.created.uid, /^[0-9a-f-]{36}$/);
    assert.equal(r.created.phase, 'Pending');
    assert.equal(r.created.createdIsDatetime, true);

    assert.equal(r.listed.kind, 'PodList');
    assert.equal(r.listed.apiVersion, 'v1');
    assert.deepEqual(r.listed.names, ['py-created']);
    assert.match(r.listed.resourceVersion, /^\d+$/);

    assert.equal(r.notFound?.code, 404);
    assert.equal(r.notFound?.body.kind, 'Status');
    assert.equal(r.notFound?.body.reason, 'NotFound');
    assert.equal(r.notFound?.body.message, 'pods "py-missing" not found');

    assert.deepEqual(
      r.events.map((e) => [e.type, e.name, e.labels.step, e.model]),
      [
        ['ADDED', WATCHED, 'one', 'V1Pod'],
        ['MODIFIED', WATCHED, 'two', 'V1Pod'],
        ['DELETED', WATCHED, 'two', 'V1Pod'],
      ],
    );
    const rvs = r.events.map((e) => Number(e.resourceVersion));
    assert.ok(
      rvs.every((v, i) => i === 0 || v > (rvs[i - 1] ?? 0)),
      `resourceVersions ${rvs.join(',')}`,
    );

    assert.equal(r.deletedName, 'py-created');
    assert.deepEqual(r.remaining, []);
  });
});
