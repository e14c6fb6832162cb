// Durability against a process crash: a child process writes (creates and CAS updates, many
// in flight, compaction running) and prints each write only after its promise resolved; the
// test SIGKILLs it mid-stream, reopens the file and finds every acknowledged write.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStorage } from './sqlite-storage.js';

const storageModule = fileURLToPath(new URL('./sqlite-storage.ts', import.meta.url));

const CHILD = `
import { SqliteStorage } from ${JSON.stringify(storageModule)};
const s = new SqliteStorage({
  path: process.argv[1],
  compaction: { keepRevisions: 50, maxRevisions: 200, everyWrites: 100, keepAgeMs: 0 },
});
const enc = (x) => new TextEncoder().encode(x);
const worker = async (w) => {
  let kv = await s.create('/crash/w' + w, enc('0'));
  process.stdout.write('u ' + w + ' 0 ' + kv.modRevision + '\\n');
  for (let i = 1; ; i++) {
    kv = await s.update('/crash/w' + w, enc(String(i)), kv.modRevision);
    process.stdout.write('u ' + w + ' ' + i + ' ' + kv.modRevision + '\\n');
    const c = await s.create('/crash/c/' + w + '/' + i, enc('x'.repeat(200)));
    process.stdout.write('c ' + w + ' ' + i + ' ' + c.modRevision + '\\n');
  }
};
for (let w = 0; w < 16; w++) worker(w);
`;

describe('sqlite durability across SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-sqlite-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged write', async () => {
    const path = join(dir, 'state.db');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const acked = { updates: new Map<number, { i: number; rev: number }>(), creates: [] as string[] };
    let maxRev = 0;
    let lines = 0;
    let partial = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child too slow: ${lines} acks; ${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        const text = partial + d.toString();
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          const [kind, w, i, rev] = line.split(' ');
          const r = Number(rev);
          maxRev = Math.max(maxRev, r);
          if (kind === 'u') acked.updates.set(Number(w), { i: Number(i), rev: r });
          else acked.creates.push(`/crash/c/${w}/${i}`);
          lines++;
        }
        if (lines >= 3000 && child.exitCode === null) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (lines < 3000) reject(new Error(`child exited early (${code}): ${stderr}`));
      });
    });
    await exited;

    const s = new SqliteStorage({ path });
    try {
      assert.ok((await s.currentRevision()) >= maxRev, 'the revision counter never goes back');
      for (const [w, { i, rev }] of acked.updates) {
        const kv = await s.get(`/crash/w${w}`);
        assert.ok(kv, `worker ${w} key missing`);
        assert.ok(kv.modRevision >= rev, `worker ${w}: acked rev ${rev}, found ${kv.modRevision}`);
        assert.ok(Number(new TextDecoder().decode(kv.value)) >= i);
      }
      for (const key of acked.creates) assert.ok(await s.get(key), `acked create ${key} missing`);
      const next = await s.create('/crash/after', new Uint8Array([1]));
      assert.ok(next.modRevision > maxRev);
    } finally {
      await s.close();
    }
  });
});
