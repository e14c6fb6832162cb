import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Readable } from 'node:stream';
import { HelperSpawner, LocalSpawner, type ProcessSpawner, type SpawnRequest } from './spawner.js';

function req(script: string, stdin = false): SpawnRequest {
  return { cmd: '/bin/sh', args: ['-c', script], cwd: '/tmp', env: { PATH: '/usr/bin:/bin' }, stdin };
}

function collect(s: Readable): Promise<string> {
  let out = '';
  s.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => s.once('close', () => resolve(out)));
}

/** Whether the process is gone or a zombie (killed, not yet reaped by its new parent). */
async function deadWithin(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    try {
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

for (const [name, make] of [
  ['helper', () => new HelperSpawner()],
  ['local', () => new LocalSpawner()],
] as const) {
  describe(`${name} spawner`, () => {
    it('passes output, exit code and signal back', async () => {
      const s: ProcessSpawner = make();
      try {
        const p = await s.spawn(req('echo out; echo err >&2; exit 3'));
        const [out, err, exit] = await Promise.all([collect(p.stdout), collect(p.stderr), p.closed]);
        assert.deepEqual([out, err, exit], ['out\n', 'err\n', { code: 3, signal: null }]);
        assert.equal(p.exited, true);
        const killed = await s.spawn(req('kill -TERM $$; sleep 5'));
        killed.stdout.resume();
        killed.stderr.resume();
        assert.deepEqual(await killed.closed, { code: null, signal: 'SIGTERM' });
      } finally {
        s.close();
      }
    });

    it('loses no output of many fast commands started at once', async () => {
      const s: ProcessSpawner = make();
      try {
        const outs = await Promise.all(
          Array.from({ length: 60 }, async (_, i) => {
            const p = await s.spawn(req(`echo line-${i}`));
            p.stderr.resume();
            const out = await collect(p.stdout);
            await p.closed;
            return out;
          }),
        );
        assert.deepEqual(
          outs,
          Array.from({ length: 60 }, (_, i) => `line-${i}\n`),
        );
      } finally {
        s.close();
      }
    });

    it('gives the command a stdin pipe, its own process group and the given env and cwd', async () => {
      const s: ProcessSpawner = make();
      try {
        const p = await s.spawn({
          ...req('read x; echo "$x $FOO $(pwd)"; ps -o pgid= -p $$', true),
          env: { PATH: '/usr/bin:/bin', FOO: 'bar' },
          cwd: '/',
        });
        const out = collect(p.stdout);
        p.stderr.resume();
        p.stdin?.end('hello\n');
        const lines = (await out).trim().split('\n');
        assert.equal(lines[0], 'hello bar /');
        assert.equal(Number(lines[1]), p.pid);
        assert.deepEqual(await p.closed, { code: 0, signal: null });
      } finally {
        s.close();
      }
    });

    it('refuses a missing command with the spawn error', async () => {
      const s: ProcessSpawner = make();
      try {
        await assert.rejects(
          s.spawn({ ...req(''), cmd: '/nonexistent/kts-cmd', args: [] }),
          /spawn \/nonexistent\/kts-cmd ENOENT/,
        );
      } finally {
        s.close();
      }
    });
  });
}

describe('helper spawner', () => {
  it('kills what it started and reports SIGKILL when the helper dies', async () => {
    const s = new HelperSpawner();
    try {
      const p = await s.spawn(req('sleep 30'));
      p.stdout.resume();
      p.stderr.resume();
      const helperPid = (s as unknown as { helper: { pid: number } }).helper.pid;
      process.kill(helperPid, 'SIGKILL');
      assert.deepEqual(await p.closed, { code: null, signal: 'SIGKILL' });
      assert.equal(await deadWithin(p.pid, 2000), true);
      // The next spawn starts a new helper.
      const q = await s.spawn(req('echo again'));
      q.stderr.resume();
      assert.equal(await collect(q.stdout), 'again\n');
    } finally {
      s.close();
    }
  });
});
