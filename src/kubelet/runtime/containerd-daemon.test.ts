import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  cleanupContainerdRoot,
  containerdConfig,
  containerdPaths,
  DISABLED_PLUGINS,
  pidsMentioning,
} from './containerd-daemon.js';

function config(rootDir: string): string {
  return containerdConfig({
    rootDir,
    sandboxImage: 'kts.local/pause:3.10',
    snapshotter: 'overlayfs',
    cniBinDir: '/usr/lib/cni',
    cniConfDir: join(rootDir, 'cni', 'net.d'),
    streamPort: 12345,
    canLowerOomScore: true,
  });
}

describe('containerdConfig', () => {
  it('keeps sandbox network namespaces under the state dir', () => {
    const root = '/var/lib/kts/agent/containerd';
    const text = config(root);
    assert.match(text, /^\s*netns_mounts_under_state_dir = true$/m);
    // Where containerd's CRI plugin then puts them: under <state>/io.containerd.grpc.v1.cri.
    assert.equal(
      containerdPaths(root).netnsDir,
      join(containerdPaths(root).state, 'io.containerd.grpc.v1.cri', 'netns'),
    );
  });

  it('disables the plugins a node never uses, and none it needs', () => {
    const line = config('/r')
      .split('\n')
      .find((l) => l.startsWith('disabled_plugins = '));
    assert.ok(line !== undefined);
    const ids = JSON.parse(line.slice('disabled_plugins = '.length)) as unknown;
    assert.deepEqual(ids, [...DISABLED_PLUGINS]);
    for (const needed of [
      'io.containerd.grpc.v1.cri',
      'io.containerd.snapshotter.v1.overlayfs',
      'io.containerd.snapshotter.v1.native',
      'io.containerd.runtime.v2.task',
    ])
      assert.ok(!DISABLED_PLUGINS.includes(needed), needed);
  });
});

describe('cleanupContainerdRoot', () => {
  it('kills what still runs on the root (containerd by its config, shims by its socket) and removes it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'kts-ctrd-cleanup-'));
    const root = join(parent, 'containerd');
    const p = containerdPaths(root);
    mkdirSync(root, { recursive: true });
    writeFileSync(p.config, '');
    // Stand-ins whose command lines name the config and the socket, as containerd's and a shim's do.
    const stray = [p.config, p.socket].map((arg) =>
      spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', arg], { stdio: 'ignore' }),
    );
    const exits = stray.map((c) => new Promise((r) => c.once('exit', r)));
    const deadline = Date.now() + 5000;
    while (pidsMentioning(root).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(pidsMentioning(root).length, 2);
    cleanupContainerdRoot(root);
    await Promise.all(exits);
    assert.deepEqual(pidsMentioning(root), []);
    assert.equal(existsSync(root), false);
    rmSync(parent, { recursive: true, force: true });
  });
});
