// The SPDY exec client against the kubelet's own SPDY exec server, on loopback: stdin's
// EOF reaches the process, output and the exit code come back, resizes arrive.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { ExecSession, StreamOptions, TerminalSize } from '../runtime/runtime.js';
import { exitStatus } from './remote-command.js';
import { openSpdyExecSession } from './remote-command-client.js';
import { SPDY_REMOTE_COMMAND_PROTOCOLS, serveRemoteCommandSpdy } from './remote-command-spdy.js';
import { acceptSpdyUpgrade } from './spdy-connection.js';
import { refuseUpgrade } from './websocket.js';

/** A process that upper-cases stdin to stdout, says "bye" on stderr at EOF and exits 3. */
function fakeProcess(resizes: TerminalSize[]): ExecSession {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let settle: (n: number) => void = () => {};
  const exit = new Promise<number>((r) => {
    settle = r;
  });
  stdin.on('data', (c: Buffer) => stdout.write(c.toString().toUpperCase()));
  stdin.on('end', () => {
    stderr.end('bye');
    stdout.end();
    settle(3);
  });
  return { stdin, stdout, stderr, resize: (s) => resizes.push(s), exit, close: () => settle(137) };
}

function collect(s: Readable | null): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    s?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    s?.once('end', () => resolve(out));
  });
}

describe('exec over SPDY: client and server', () => {
  let server: Server;
  let url = '';
  const resizes: TerminalSize[] = [];
  before(async () => {
    server = createServer((_req, res) => res.writeHead(400).end('upgrade required'));
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      if (!(req.url ?? '').startsWith('/exec')) {
        refuseUpgrade(socket, { code: 404, message: 'not found' });
        return;
      }
      const accepted = acceptSpdyUpgrade(req.headers, socket, head, SPDY_REMOTE_COMMAND_PROTOCOLS);
      if (!('transport' in accepted)) {
        refuseUpgrade(socket, accepted);
        return;
      }
      const tty = new URL(req.url ?? '/', 'http://x').searchParams.get('tty') === '1';
      const streams: StreamOptions = { stdin: true, stdout: true, stderr: !tty, tty };
      void serveRemoteCommandSpdy(accepted.transport, {
        protocol: accepted.protocol,
        streams,
        start: async () => fakeProcess(resizes),
        status: (code) => exitStatus(code, ['fake']),
        startFailure: () => exitStatus(1, ['fake']),
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('passes stdin with its EOF, returns stdout, stderr and the exit code', async () => {
    const s = await openSpdyExecSession(url, { stdin: true, stdout: true, stderr: true, tty: false });
    const out = collect(s.stdout);
    const err = collect(s.stderr);
    s.stdin?.write('hello ');
    s.stdin?.end('world');
    assert.equal(await s.exit, 3);
    assert.equal(await out, 'HELLO WORLD');
    assert.equal(await err, 'bye');
  });

  it('sends terminal sizes on the resize stream', async () => {
    const s = await openSpdyExecSession(`${url}?tty=1`, {
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
    });
    assert.equal(s.stderr, null);
    const out = collect(s.stdout);
    s.resize({ width: 100, height: 40 });
    s.resize({ width: 80, height: 24 });
    await new Promise((r) => setTimeout(r, 50));
    s.stdin?.end('x');
    assert.equal(await s.exit, 3);
    assert.equal(await out, 'X');
    assert.deepEqual(resizes, [
      { width: 100, height: 40 },
      { width: 80, height: 24 },
    ]);
  });

  it('fails when the server does not upgrade', async () => {
    await assert.rejects(
      openSpdyExecSession(url.replace('/exec', '/nope'), {
        stdin: false,
        stdout: true,
        stderr: false,
        tty: false,
      }),
      /unable to upgrade connection: 404: not found/,
    );
  });
});
