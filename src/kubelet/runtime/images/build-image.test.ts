import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  buildImage,
  busyboxLayer,
  isStaticElf,
  ociArchitecture,
  PAUSE_IMAGE,
  pauseImage,
} from './build-image.js';
import { createTar, readTar, type TarEntry } from './tar.js';

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

describe('tar', () => {
  it('round-trips files, directories, symlinks and long paths', () => {
    const long = `${'d'.repeat(120)}/file.txt`;
    const entries: TarEntry[] = [
      { type: 'dir', path: 'bin', mode: 0o755 },
      { type: 'file', path: 'bin/tool', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
      { type: 'file', path: long, data: Buffer.alloc(1000, 7), mode: 0o644 },
    ];
    const tar = createTar(entries);
    assert.equal(tar.length % 512, 0);
    assert.deepEqual(readTar(tar), entries);
    assert.deepEqual(createTar(entries), tar, 'deterministic');
  });
});

describe('OCI image builder', () => {
  it('writes an OCI layout whose digests and diffIDs check out', () => {
    const image = buildImage({
      name: 'kts.local/test:1',
      layers: [[{ type: 'file', path: 'hello', data: Buffer.from('hi') }]],
      config: { cmd: ['/hello'], env: ['A=b'] },
    });
    const files = new Map(
      readTar(image.archive).flatMap((e) => (e.type === 'file' ? [[e.path, Buffer.from(e.data)]] : [])),
    );
    assert.equal(JSON.parse(files.get('oci-layout')?.toString() ?? '{}').imageLayoutVersion, '1.0.0');
    for (const [path, data] of files) {
      if (path.startsWith('blobs/sha256/')) assert.equal(sha256(data), `sha256:${path.slice(13)}`);
    }
    const index = JSON.parse(files.get('index.json')?.toString() ?? '{}');
    const desc = index.manifests[0];
    assert.equal(desc.digest, image.manifestDigest);
    assert.equal(desc.annotations['io.containerd.image.name'], 'kts.local/test:1');
    assert.equal(desc.annotations['org.opencontainers.image.ref.name'], '1');
    const manifest = JSON.parse(
      files.get(`blobs/sha256/${image.manifestDigest.slice(7)}`)?.toString() ?? '{}',
    );
    assert.equal(manifest.config.digest, image.configDigest);
    const config = JSON.parse(files.get(`blobs/sha256/${image.configDigest.slice(7)}`)?.toString() ?? '{}');
    assert.deepEqual(
      [config.os, config.architecture, config.config.Cmd, config.config.Env],
      ['linux', ociArchitecture(), ['/hello'], ['A=b']],
    );
    const layer = files.get(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`) ?? Buffer.alloc(0);
    // Uncompressed layers: the blob's digest is its diffID.
    assert.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
    assert.equal(sha256(layer), config.rootfs.diff_ids[0]);
    assert.deepEqual(
      buildImage({
        name: 'kts.local/test:1',
        layers: [[{ type: 'file', path: 'hello', data: Buffer.from('hi') }]],
        config: { cmd: ['/hello'], env: ['A=b'] },
      }).manifestDigest,
      image.manifestDigest,
    );
  });

  it('recognises static and dynamic ELF binaries', () => {
    assert.equal(isStaticElf(Buffer.from('not elf')), false);
    if (existsSync('/usr/bin/env')) assert.equal(isStaticElf(readFileSync('/usr/bin/env')), false);
    if (existsSync('/bin/busybox')) assert.equal(isStaticElf(readFileSync('/bin/busybox')), true);
  });

  it('builds the busybox layer and the pause image from busybox-static', () => {
    assert.ok(existsSync('/bin/busybox'), 'install the Debian package busybox-static');
    const layer = busyboxLayer();
    const links = new Set(layer.filter((e) => e.type === 'symlink').map((e) => e.path));
    for (const applet of ['bin/sh', 'bin/sleep', 'bin/cat', 'bin/echo', 'usr/sbin/httpd', 'usr/bin/nc']) {
      assert.ok(links.has(applet), applet);
    }
    const pause = pauseImage();
    assert.equal(pause.name, PAUSE_IMAGE);
    assert.throws(() => busyboxLayer('/nonexistent'), /busybox-static/);
  });
});
