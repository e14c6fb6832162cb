// Turns the URLs containerd's CRI streaming server hands out (Exec/Attach/PortForward) into
// live streams, speaking the Kubernetes channel protocol over WebSocket
// (`v4.channel.k8s.io`): every binary message starts with a channel byte — 0 stdin,
// 1 stdout, 2 stderr, 3 error (a metav1.Status, which carries the exit code), 4 resize.
// Port-forward uses one WebSocket per connection (`?port=N`), channel 0 carrying the data
// and channel 1 the errors.
//
// Limitation: v4 has no way to half-close stdin (v5's close channel came after
// containerd 1.6), so ending `stdin` sends nothing: the process sees EOF only when the
// session closes. Interactive shells are unaffected (they read `exit`); programs that wait
// for EOF on stdin need a TTY (^D) or the process runtime.

import { Duplex, PassThrough, Writable } from 'node:stream';
import type { ExecSession, StreamOptions, TerminalSize } from '../runtime.js';
import { openSpdyExecSession } from '../../server/remote-command-client.js';
import { exitCodeFromStatus } from '../exec-status.js';
import { openWebSocket, type WebSocketClient } from './websocket-client.js';

const CH_STDIN = 0;
const CH_STDOUT = 1;
const CH_STDERR = 2;
const CH_ERROR = 3;
const CH_RESIZE = 4;

/** Connects to an exec or attach URL and exposes it as an ExecSession. */
export async function streamSession(url: string, options: StreamOptions): Promise<ExecSession> {
  // v4 over WebSocket cannot end stdin; SPDY half-closes the stream, so a reader of stdin
  // (`tar -xf -` under `kubectl cp`) sees EOF.
  if (options.stdin) return openSpdyExecSession(url, options);
  const ws = await openWebSocket(url, ['v4.channel.k8s.io']);
  const stdout = options.stdout ? new PassThrough() : null;
  const stderr = options.stderr && !options.tty ? new PassThrough() : null;
  let settle: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => {
    settle = resolve;
  });
  let exitCode: number | undefined;
  ws.on('message', (m: Buffer) => {
    if (m.length < 1) return;
    const ch = m[0];
    const data = m.subarray(1);
    if (ch === CH_STDOUT) {
      if (data.length > 0) stdout?.write(data);
    } else if (ch === CH_STDERR) {
      if (data.length > 0) stderr?.write(data);
    } else if (ch === CH_ERROR && data.length > 0) {
      exitCode = exitCodeFromStatus(data.toString('utf8')).code;
    }
  });
  ws.on('close', () => {
    stdout?.end();
    stderr?.end();
    settle(exitCode ?? 0);
  });
  const stdin = options.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          const frame = Buffer.alloc(chunk.length + 1);
          frame[0] = CH_STDIN;
          chunk.copy(frame, 1);
          ws.send(frame);
          cb();
        },
      })
    : null;
  return {
    stdin,
    stdout,
    stderr,
    resize(size: TerminalSize): void {
      const body = Buffer.from(JSON.stringify({ Width: size.width, Height: size.height }));
      ws.send(Buffer.concat([Buffer.from([CH_RESIZE]), body]));
    },
    exit,
    close(): void {
      ws.close();
    },
  };
}

/** Opens one forwarded connection through a port-forward URL. */
export async function portForwardConnection(url: string, port: number): Promise<Duplex> {
  const u = new URL(url);
  u.searchParams.set('port', String(port));
  const ws: WebSocketClient = await openWebSocket(u.toString(), ['v4.channel.k8s.io']);
  let dataPortSeen = false;
  let errorPortSeen = false;
  let errorText = '';
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      ws.send(Buffer.concat([Buffer.from([0]), chunk]));
      cb();
    },
    final(cb) {
      // The protocol has no half-close; the connection ends when either side closes.
      cb();
    },
    read() {},
    destroy(err, cb) {
      ws.close();
      cb(err);
    },
  });
  // Servers may open each channel with the port number (2 bytes, little-endian) as its own
  // message; containerd 1.6 does not. Skip it only when it is exactly that.
  const isPortPreamble = (data: Buffer): boolean => data.length === 2 && data.readUInt16LE(0) === port;
  ws.on('message', (m: Buffer) => {
    const ch = m[0];
    const data = m.subarray(1);
    if (ch === 0) {
      const first = !dataPortSeen;
      dataPortSeen = true;
      if (first && isPortPreamble(data)) return;
      if (data.length > 0) duplex.push(data);
    } else if (ch === 1) {
      const first = !errorPortSeen;
      errorPortSeen = true;
      if (first && isPortPreamble(data)) return;
      errorText += data.toString('utf8');
    }
  });
  ws.on('close', () => {
    if (errorText !== '') duplex.destroy(new Error(`port-forward to ${port}: ${errorText.trim()}`));
    else duplex.push(null);
  });
  return duplex;
}
