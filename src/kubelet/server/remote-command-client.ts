// The client side of exec/attach over SPDY/3.1 (`v4.channel.k8s.io`), for a streaming URL
// such as the ones containerd's CRI streaming server hands out. Unlike v4 over WebSocket,
// SPDY can half-close a stream, so ending `stdin` reaches the process as EOF: what
// `kubectl cp` into a pod (`tar -xf -`) needs from a containerd 1.6 runtime.

import { request } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { exitCodeFromStatus } from '../runtime/exec-status.js';
import type { ExecSession, StreamOptions, TerminalSize } from '../runtime/runtime.js';
import { SpdyConnection, socketTransport } from './spdy-connection.js';

/** The protocol this client asks for. */
const PROTOCOL = 'v4.channel.k8s.io';

/** Upgrades an `http://` streaming URL to SPDY/3.1; resolves the socket and early bytes. */
function upgrade(url: string): Promise<{ socket: Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'SPDY/3.1',
        'X-Stream-Protocol-Version': PROTOCOL,
        'Content-Length': '0',
      },
    });
    req.once('upgrade', (res, socket: Socket, head: Buffer) => {
      const version = res.headers['x-stream-protocol-version'];
      if (version !== undefined && version !== PROTOCOL) {
        socket.destroy();
        reject(new Error(`unable to negotiate protocol: server returned ${JSON.stringify(version)}`));
        return;
      }
      resolve({ socket, head });
    });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.once('end', () =>
        reject(new Error(`unable to upgrade connection: ${res.statusCode}: ${body.trim()}`)),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Opens an exec or attach session on `url` over SPDY: one stream per channel (error first,
 * as client-go opens them), the exit code read from the Status on the error stream.
 */
export async function openSpdyExecSession(url: string, options: StreamOptions): Promise<ExecSession> {
  const { socket, head } = await upgrade(url);
  socket.setNoDelay(true);
  const conn = new SpdyConnection(socketTransport(socket, head), { client: true });
  const open = (type: string): ReturnType<SpdyConnection['openStream']> => {
    const s = conn.openStream({ streamtype: [type] });
    s.on('error', () => {});
    return s;
  };
  const error = open('error');
  // The client never writes on the error stream.
  error.end();
  const stdin = options.stdin ? open('stdin') : null;
  const stdoutStream = options.stdout ? open('stdout') : null;
  const stderrStream = options.stderr && !options.tty ? open('stderr') : null;
  const resize = options.tty ? open('resize') : null;
  stdoutStream?.end();
  stderrStream?.end();
  // Output ends with the connection, even when the server never FINs a stream.
  const stdout = stdoutStream === null ? null : new PassThrough();
  const stderr = stderrStream === null ? null : new PassThrough();
  if (stdoutStream !== null && stdout !== null) stdoutStream.pipe(stdout);
  if (stderrStream !== null && stderr !== null) stderrStream.pipe(stderr);
  const exit = new Promise<number>((resolve) => {
    let text = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve(text === '' ? 0 : exitCodeFromStatus(text).code);
      conn.close();
    };
    error.on('data', (d: Buffer) => {
      text += d.toString();
    });
    error.once('end', finish);
    conn.once('close', () => {
      finish();
      stdout?.end();
      stderr?.end();
    });
  });
  return {
    stdin,
    stdout,
    stderr,
    resize(size: TerminalSize): void {
      resize?.write(`${JSON.stringify({ Width: size.width, Height: size.height })}\n`);
    },
    exit,
    close(): void {
      conn.close();
    },
  };
}
