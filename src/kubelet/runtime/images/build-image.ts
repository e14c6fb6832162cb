// Builds OCI image tarballs (an OCI image layout packed in a tar, which `ctr images import`
// and `kts image import` accept) from files on disk. There is no registry to pull from in
// tests or on air-gapped nodes, so the sandbox (pause) image and the busybox test image are
// made here from Debian's `busybox-static`. Every digest is computed locally. A layer is an
// uncompressed tar (media type `…layer.v1.tar`, digest = diffID): these images never leave
// the machine, and gzip took ~130 ms of the main thread on every fresh node's start-up.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createTar, type TarEntry } from './tar.js';

/** The sandbox ("pause") image kts configures containerd with. */
export const PAUSE_IMAGE = 'kts.local/pause:3.10';
/** A small busybox image for tests and examples. */
export const BUSYBOX_IMAGE = 'kts.local/busybox:latest';
/** Where Debian's `busybox-static` installs its binary. */
export const DEFAULT_BUSYBOX_PATH = '/bin/busybox';

/** The runtime configuration of an image (the `config` object of the OCI image config). */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
}

/** What an image is made of: its reference, its layers (bottom first) and its run config. */
export interface ImageSpecInput {
  /** Full reference, e.g. `kts.local/busybox:latest`. */
  name: string;
  layers: TarEntry[][];
  config: ImageRunConfig;
}

/** A built image: the tarball bytes plus the digests a runtime will report for it. */
export interface BuiltImage {
  name: string;
  archive: Buffer;
  /** Digest of the manifest (what `crictl images --digests` shows). */
  manifestDigest: string;
  /** Digest of the config blob: the image ID containerd's CRI reports. */
  configDigest: string;
}

interface Blob {
  digest: string;
  data: Buffer;
}

function blob(data: Buffer | string): Blob {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, data: bytes };
}

/** The OCI architecture name of this machine (Node's `x64` is OCI's `amd64`). */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return names[arch] ?? arch;
}

function splitRef(name: string): { tag: string } {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return { tag: colon > slash ? name.slice(colon + 1) : 'latest' };
}

/** Builds an OCI image layout tarball for one linux image on this machine's architecture. */
export function buildImage(spec: ImageSpecInput): BuiltImage {
  const layers = spec.layers.map((entries) => {
    const layer = blob(createTar(entries));
    return { diffId: layer.digest, blob: layer };
  });
  const c = spec.config;
  const config = blob(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: ociArchitecture(),
      os: 'linux',
      config: {
        ...(c.user !== undefined ? { User: c.user } : {}),
        ...(c.exposedPorts !== undefined
          ? { ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [p, {}])) }
          : {}),
        Env: c.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(c.entrypoint !== undefined ? { Entrypoint: c.entrypoint } : {}),
        ...(c.cmd !== undefined ? { Cmd: c.cmd } : {}),
        ...(c.workingDir !== undefined ? { WorkingDir: c.workingDir } : {}),
        ...(c.labels !== undefined ? { Labels: c.labels } : {}),
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'kts build-image' })),
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config.digest,
        size: config.data.length,
      },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: l.blob.digest,
        size: l.blob.data.length,
      })),
    }),
  );
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifest.digest,
        size: manifest.data.length,
        platform: { architecture: ociArchitecture(), os: 'linux' },
        annotations: {
          // containerd names the imported image after this annotation; other tools use ref.name.
          'io.containerd.image.name': spec.name,
          'org.opencontainers.image.ref.name': splitRef(spec.name).tag,
        },
      },
    ],
  });
  const blobs = new Map<string, Buffer>();
  for (const b of [config, manifest, ...layers.map((l) => l.blob)]) blobs.set(b.digest, b.data);
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { type: 'file', path: 'index.json', data: Buffer.from(index) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    ...[...blobs].map(
      ([digest, data]): TarEntry => ({
        type: 'file',
        path: `blobs/sha256/${digest.slice('sha256:'.length)}`,
        data,
      }),
    ),
  ];
  return {
    name: spec.name,
    archive: createTar(entries),
    manifestDigest: manifest.digest,
    configDigest: config.digest,
  };
}

/** True when the ELF file has no program interpreter (so it runs in an empty root). */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2) return false;
  const phoff = Number(bytes.readBigUInt64LE(32));
  const phentsize = bytes.readUInt16LE(54);
  const phnum = bytes.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return false;
    if (bytes.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

/** The root filesystem layer of the busybox images: busybox, a link per applet, /etc basics. */
export function busyboxLayer(busyboxPath: string = DEFAULT_BUSYBOX_PATH): TarEntry[] {
  let binary: Buffer;
  try {
    binary = readFileSync(busyboxPath);
  } catch {
    throw new Error(`${busyboxPath} not found: install the Debian package busybox-static`);
  }
  if (!isStaticElf(binary)) {
    throw new Error(`${busyboxPath} is not statically linked: install the Debian package busybox-static`);
  }
  const list = spawnSync(busyboxPath, ['--list-full'], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`${busyboxPath} --list-full failed: ${list.stderr}`);
  const applets = list.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'bin/busybox');
  const dirs = [
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'etc',
    'root',
    'var',
    'var/www',
    'home',
    'dev',
    'proc',
    'sys',
  ];
  const entries: TarEntry[] = dirs.map((path) => ({ type: 'dir', path }));
  entries.push({ type: 'dir', path: 'tmp', mode: 0o1777 });
  entries.push({ type: 'file', path: 'bin/busybox', data: binary, mode: 0o755 });
  for (const applet of applets) entries.push({ type: 'symlink', path: applet, target: '/bin/busybox' });
  const etc: Record<string, string> = {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
    'etc/hostname': 'busybox\n',
    'etc/resolv.conf': '',
  };
  for (const [path, text] of Object.entries(etc))
    entries.push({ type: 'file', path, data: Buffer.from(text) });
  return entries;
}

/** `kts.local/busybox:latest`: busybox with `sh` as its command. */
export function busyboxImage(busyboxPath?: string): BuiltImage {
  return buildImage({ name: BUSYBOX_IMAGE, layers: [busyboxLayer(busyboxPath)], config: { cmd: ['sh'] } });
}

/**
 * The pause command: pid 1 of the sandbox, idle until SIGTERM/SIGINT. The trap gives the
 * shell a handler (pid 1 ignores unhandled signals) and `wait` returns as soon as one arrives.
 */
export const PAUSE_COMMAND = [
  '/bin/sh',
  '-c',
  'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done',
];

/** `kts.local/pause:3.10`: the sandbox image; it shares its only layer with busybox. */
export function pauseImage(busyboxPath?: string): BuiltImage {
  return buildImage({
    name: PAUSE_IMAGE,
    layers: [busyboxLayer(busyboxPath)],
    config: { entrypoint: PAUSE_COMMAND },
  });
}

/** Writes a built image's tarball to `path`. */
export function writeImage(image: BuiltImage, path: string): void {
  writeFileSync(path, image.archive);
}
