import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CriLogWriter,
  followLogs,
  formatLogLine,
  formatRfc3339Nano,
  parseLogLine,
  parseRfc3339Nano,
  readLogs,
} from './logs.js';

const dir = mkdtempSync(join(tmpdir(), 'kts-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A clock that ticks one second per call from 2024-01-02T03:04:05.123456789Z. */
function fakeClock(): () => bigint {
  let t = parseRfc3339Nano('2024-01-02T03:04:05.123456789Z');
  return () => {
    const now = t;
    t += 1_000_000_000n;
    return now;
  };
}

describe('CRI log lines', () => {
  it('formats and parses timestamps with nanoseconds', () => {
    const cases: [string, string][] = [
      ['2024-01-02T03:04:05.123456789Z', '2024-01-02T03:04:05.123456789Z'],
      ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.000000000Z'],
      ['2024-01-02T04:04:05.5+01:00', '2024-01-02T03:04:05.500000000Z'],
    ];
    for (const [input, canonical] of cases)
      assert.equal(formatRfc3339Nano(parseRfc3339Nano(input)), canonical);
    assert.throws(() => parseRfc3339Nano('yesterday'), /invalid RFC 3339/);
  });

  it('round-trips lines, including empty and partial ones', () => {
    const t = parseRfc3339Nano('2024-01-02T03:04:05.123456789Z');
    const line = formatLogLine(t, 'stdout', false, 'hello world');
    assert.equal(line.toString(), '2024-01-02T03:04:05.123456789Z stdout F hello world\n');
    const e = parseLogLine(line.subarray(0, -1));
    assert.deepEqual(
      [e?.stream, e?.partial, e?.content.toString(), e?.timeNanos],
      ['stdout', false, 'hello world', t],
    );
    const empty = parseLogLine(Buffer.from('2024-01-02T03:04:05.123456789Z stderr P'));
    assert.deepEqual([empty?.stream, empty?.partial, empty?.content.length], ['stderr', true, 0]);
    for (const bad of ['', 'garbage', '2024-01-02T03:04:05Z stdin F x', 'notatime stdout F x']) {
      assert.equal(parseLogLine(Buffer.from(bad)), undefined, bad);
    }
  });
});

describe('CriLogWriter and readers', () => {
  it('splits output into lines, buffers unterminated text, cuts long lines into P entries', () => {
    const path = join(dir, 'split.log');
    const w = new CriLogWriter(path, {}, 8, fakeClock());
    w.write('stdout', Buffer.from('one\ntw'));
    w.write('stderr', Buffer.from('err\n'));
    w.write('stdout', Buffer.from('o\n0123456789abc\nend'));
    w.close();
    assert.equal(
      readFileSync(path, 'utf8'),
      [
        '2024-01-02T03:04:05.123456789Z stdout F one',
        '2024-01-02T03:04:06.123456789Z stderr F err',
        '2024-01-02T03:04:07.123456789Z stdout F two',
        '2024-01-02T03:04:08.123456789Z stdout P 01234567',
        '2024-01-02T03:04:09.123456789Z stdout F 89abc',
        '2024-01-02T03:04:10.123456789Z stdout F end',
        '',
      ].join('\n'),
    );
    const cases: [Parameters<typeof readLogs>[1], string][] = [
      [{}, 'one\nerr\ntwo\n0123456789abc\nend\n'],
      [{ stream: 'stderr' }, 'err\n'],
      [{ tailLines: 2 }, '0123456789abc\nend\n'],
      [{ tailLines: 0 }, ''],
      [{ sinceNanos: parseRfc3339Nano('2024-01-02T03:04:07Z') }, 'two\n0123456789abc\nend\n'],
      [{ tailLines: 1, timestamps: true }, '2024-01-02T03:04:10.123456789Z end\n'],
      [{ limitBytes: 6 }, 'one\ner'],
    ];
    for (const [options, want] of cases)
      assert.equal(
        readLogs(path, options).toString(),
        want,
        JSON.stringify(options, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      );
    assert.equal(readLogs(join(dir, 'absent.log')).length, 0);
  });

  it('rotates by size, keeping maxFiles files', () => {
    const path = join(dir, 'rotate.log');
    const w = new CriLogWriter(path, { maxSize: 100, maxFiles: 3 }, 16 * 1024, fakeClock());
    for (let i = 0; i < 10; i++) w.write('stdout', Buffer.from(`line ${i} ${'x'.repeat(40)}\n`));
    w.close();
    assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`));
    assert.ok(!existsSync(`${path}.3`));
    const all = [`${path}.2`, `${path}.1`, path].map((p) => readLogs(p).toString()).join('');
    assert.match(all, /line 9 x+\n$/);
    assert.ok(!all.includes('line 0 '), 'oldest lines were dropped');
  });

  it('follows a log across appends and rotation until aborted', async () => {
    const path = join(dir, 'follow.log');
    const w = new CriLogWriter(path, {}, 16 * 1024, fakeClock());
    w.write('stdout', Buffer.from('a\nb\n'));
    const ac = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const chunk of followLogs(path, { tailLines: 1, signal: ac.signal, pollMs: 10 })) {
        got.push(chunk.toString());
        if (got.length === 3) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    w.write('stdout', Buffer.from('c\n'));
    await new Promise((r) => setTimeout(r, 50));
    w.rotate();
    w.write('stdout', Buffer.from('d\n'));
    await done;
    w.close();
    assert.deepEqual(got, ['b\n', 'c\n', 'd\n']);
  });

  it('stops following when the container is gone and the file drained', async () => {
    const path = join(dir, 'until.log');
    writeFileSync(path, formatLogLine(1n, 'stdout', false, 'last'));
    const chunks: string[] = [];
    for await (const c of followLogs(path, { pollMs: 5, until: () => true })) chunks.push(c.toString());
    assert.deepEqual(chunks, ['last\n']);
  });
});
