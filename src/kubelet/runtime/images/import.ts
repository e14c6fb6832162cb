// Importing image tarballs (docker-archive or OCI layout) into a node's containerd, in the
// `k8s.io` namespace where containerd's CRI plugin looks for images. containerd's own
// importer (`ctr images import`, shipped with Debian's containerd) does the work, so both
// archive formats and every layer media type containerd knows are accepted.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUSYBOX_IMAGE,
  type BuiltImage,
  busyboxImage,
  PAUSE_IMAGE,
  pauseImage,
  writeImage,
} from './build-image.js';

/** The containerd namespace of Kubernetes images and containers. */
export const K8S_NAMESPACE = 'k8s.io';

/** Where and how to import. */
export interface ImportOptions {
  /** containerd's socket path (not a `unix://` URL). */
  socket: string;
  namespace?: string;
  /** Snapshotter to unpack into; must match the CRI plugin's (default: containerd's default). */
  snapshotter?: string;
  /** Path of `ctr` (default: on PATH). */
  ctrPath?: string;
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', (err) =>
      reject(new Error(`cannot run ${cmd}: ${err.message} (install the containerd package)`)),
    );
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Strips a `unix://` scheme so `ctr --address` gets a path. */
export function socketPath(endpoint: string): string {
  return endpoint.replace(/^unix:\/\//, '');
}

/** Imports one tarball; resolves to the image names containerd reports. */
export async function importImageArchive(file: string, options: ImportOptions): Promise<string[]> {
  const args = [
    '--address',
    socketPath(options.socket),
    '-n',
    options.namespace ?? K8S_NAMESPACE,
    'images',
    'import',
  ];
  if (options.snapshotter !== undefined) args.push('--snapshotter', options.snapshotter);
  // Docker archives often lack a platform; taking the whole archive avoids "no match" errors.
  args.push('--all-platforms', file);
  const r = await run(options.ctrPath ?? 'ctr', args);
  if (r.code !== 0) throw new Error(`importing ${file} failed: ${(r.stderr || r.stdout).trim()}`);
  // ctr prints "unpacking <name> (<digest>)...done" per image.
  return [...r.stdout.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)].map((m) => m[1] ?? '');
}

/** Names of images present in the namespace. */
export async function listImageNames(options: ImportOptions): Promise<string[]> {
  const args = [
    '--address',
    socketPath(options.socket),
    '-n',
    options.namespace ?? K8S_NAMESPACE,
    'images',
    'ls',
    '-q',
  ];
  const r = await run(options.ctrPath ?? 'ctr', args);
  if (r.code !== 0) throw new Error(`listing images failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Imports a built image (written to a temporary tarball first). */
export async function importBuiltImage(image: BuiltImage, options: ImportOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-image-'));
  try {
    const file = join(dir, 'image.tar');
    writeImage(image, file);
    await importImageArchive(file, options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Makes sure kts's own images (the pause sandbox image and busybox) are present, building
 * and importing the missing ones. Resolves to the names it imported.
 */
export async function ensureBuiltinImages(
  options: ImportOptions & { busyboxPath?: string },
): Promise<string[]> {
  const present = new Set(await listImageNames(options));
  const builtin: [string, (busyboxPath?: string) => BuiltImage][] = [
    [PAUSE_IMAGE, pauseImage],
    [BUSYBOX_IMAGE, busyboxImage],
  ];
  const missing = builtin.filter(([name]) => !present.has(name));
  // Side by side: a fresh node's start waits for both, and each import is mostly a ctr
  // process waiting on containerd's unpacking.
  await Promise.all(missing.map(([, build]) => importBuiltImage(build(options.busyboxPath), options)));
  return missing.map(([name]) => name);
}
