// A Docker distribution registry on loopback for the image pull tests: Debian's
// `docker-registry` (distribution 2.8) started with a config of our own (a free 127.0.0.1
// port, storage in a temp dir, optionally htpasswd basic auth) and stopped by pid, so a
// registry service the package may have set up is never used. `pushImage` is a small OCI
// distribution push client: it reads the OCI layout tarball kts builds for its images,
// uploads each blob (POST, then PUT with the digest; skipped when HEAD finds it) and PUTs
// the manifest under a tag.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltImage } from '../../src/kubelet/runtime/images/build-image.js';
import { readTar } from '../../src/kubelet/runtime/images/tar.js';
import { freePort, until } from './wait.js';

/** Where Debian's `docker-registry` package installs the registry. */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/**
 * An htpasswd line for user `ktsuser`, password `ktspass`: bcrypt (the only scheme the
 * registry accepts), made once with `htpasswd -nbB ktsuser ktspass` (Debian apache2-utils),
 * since node:crypto has no bcrypt.
 */
export const HTPASSWD_USER = 'ktsuser';
/** The password of HTPASSWD_USER. */
export const HTPASSWD_PASSWORD = 'ktspass';
const HTPASSWD_LINE = 'ktsuser:$2y$05$0bwtTO/LyhNzkjEBD9Xjdu1i8udktTtWKE1FLLWFwBtDT64zSFD.q';

/** A running loopback registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`: the registry host part of image references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  pid: number;
  /** Basic credentials when the registry requires them. */
  auth?: { username: string; password: string };
  /** Stops the registry by pid and removes its storage. */
  stop(): Promise<void>;
}

/** Why the registry cannot run here, or undefined when it can. */
export function registryMissing(): string | undefined {
  const r = spawnSync(REGISTRY_BINARY, ['--version'], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `${REGISTRY_BINARY} not found: install the Debian package docker-registry`;
}

/** Starts a registry on a free loopback port; with `htpasswd`, it requires basic auth. */
export async function startTestRegistry(opts: { htpasswd?: boolean } = {}): Promise<TestRegistry> {
  const missing = registryMissing();
  if (missing !== undefined) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'kts-registry-'));
  const port = await freePort();
  const auth = opts.htpasswd
    ? `auth:\n  htpasswd:\n    realm: kts-test\n    path: ${join(dir, 'htpasswd')}\n`
    : '';
  if (opts.htpasswd) writeFileSync(join(dir, 'htpasswd'), `${HTPASSWD_LINE}\n`);
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: kts-test-secret\n${auth}`,
  );
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(
      'registry to listen',
      async () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
        const r = await fetch(`${url}/v2/`).catch(() => undefined);
        return r === undefined ? undefined : true;
      },
      10_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const reg: TestRegistry = { host: `127.0.0.1:${port}`, url, pid: child.pid ?? 0, stop };
  if (opts.htpasswd) reg.auth = { username: HTPASSWD_USER, password: HTPASSWD_PASSWORD };
  return reg;
}

function authHeader(reg: TestRegistry): Record<string, string> {
  if (reg.auth === undefined) return {};
  const b64 = Buffer.from(`${reg.auth.username}:${reg.auth.password}`).toString('base64');
  return { authorization: `Basic ${b64}` };
}

async function check(r: Response, what: string, ok: number[]): Promise<Response> {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status}: ${await r.text()}`);
  return r;
}

/** Uploads one blob to `repo` unless the registry has it already (monolithic upload). */
async function pushBlob(reg: TestRegistry, repo: string, digest: string, data: Buffer): Promise<void> {
  const h = authHeader(reg);
  const head = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers: h });
  if (head.status === 200) return;
  const start = await check(
    await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: h }),
    `starting the upload of ${digest}`,
    [202],
  );
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (location === null) throw new Error('registry gave no upload location');
  const at = new URL(location, reg.url);
  at.searchParams.set('digest', digest);
  const put = await fetch(at, {
    method: 'PUT',
    headers: { ...h, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    body: data,
  });
  await check(put, `uploading ${digest}`, [201]);
  await put.arrayBuffer();
}

/**
 * Pushes a kts-built image (its OCI layout tarball) to `reg` as `repo:tag`: every blob the
 * manifest names, then the manifest. Resolves to the manifest digest.
 */
export async function pushImage(
  reg: TestRegistry,
  image: BuiltImage,
  repo: string,
  tag: string,
): Promise<string> {
  const files = new Map<string, Buffer>();
  for (const e of readTar(image.archive)) if (e.type === 'file') files.set(e.path, Buffer.from(e.data));
  const blobOf = (digest: string): Buffer => {
    const b = files.get(`blobs/sha256/${digest.replace(/^sha256:/, '')}`);
    if (b === undefined) throw new Error(`image archive lacks blob ${digest}`);
    return b;
  };
  const manifestBytes = blobOf(image.manifestDigest);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    mediaType: string;
    config: { digest: string };
    layers: { digest: string }[];
  };
  for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)])
    await pushBlob(reg, repo, d, blobOf(d));
  const put = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...authHeader(reg), 'content-type': manifest.mediaType },
    body: manifestBytes,
  });
  await check(put, `pushing the manifest of ${repo}:${tag}`, [201]);
  await put.arrayBuffer();
  return put.headers.get('docker-content-digest') ?? image.manifestDigest;
}
