// The kubelet's HTTPS server (upstream port 10250): `/healthz`, container logs
// (`/containerLogs/<ns>/<pod>/<container>`) and the streaming endpoints `/exec/…` and
// `/attach/…` (over WebSocket or SPDY/3.1) and `/portForward/<ns>/<pod>` (SPDY/3.1, plain
// or tunneled in WebSocket messages). Clients authenticate with a certificate from the cluster CA
// (the API server connects with its kubelet-client identity); every authenticated client
// may use every endpoint, as a kubelet with webhook authorization disabled allows.

import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { type Duplex, Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Pod } from '../../api/generated/types/core-v1.js';
import { errorText, type Logger, noopLogger } from '../../client/log.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../pod-sync.js';
import { followLogs, parseRfc3339Nano, type ReadLogOptions, readLogs } from '../runtime/logs.js';
import type { ContainerRuntime, ContainerStatus, ExecSession, StreamOptions } from '../runtime/runtime.js';
import {
  exitStatus,
  finishWithStatus,
  holdEarlyMessages,
  internalErrorStatus,
  REMOTE_COMMAND_PROTOCOLS,
  type StreamStatus,
  serveRemoteCommand,
} from './remote-command.js';
import { METRICS_CONTENT_TYPE, MetricsText } from '../../machinery/prometheus.js';
import type { Summary } from '../node-stats.js';
import { type KubeletGauges, kubeletMetricsText, resourceMetricsText } from './kubelet-metrics.js';
import { SPDY_REMOTE_COMMAND_PROTOCOLS, serveRemoteCommandSpdy } from './remote-command-spdy.js';
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  servePortForward,
  servePortForwardWebSocket,
} from './port-forward.js';
import {
  acceptSpdyUpgrade,
  isSpdyRequest,
  type SpdyTransport,
  webSocketTransport,
} from './spdy-connection.js';
import { acceptWebSocket, isWebSocketRequest, offeredProtocols, refuseUpgrade } from './websocket.js';

/** Options of the kubelet's server. */
export interface KubeletServerOptions {
  runtime: ContainerRuntime;
  /** The pod this kubelet runs under that name, if any. */
  getPod(namespace: string, name: string): Pod | undefined;
  port: number;
  /** Listen address (default 0.0.0.0). */
  address?: string;
  /** Serving certificate and key (PEM). */
  tls: { certPem: string; keyPem: string };
  /** CA whose client certificates are accepted; without it only `/healthz` is served. */
  clientCAPem?: string;
  logger?: Logger;
  /** How often a followed log file is polled for new lines (default 200 ms). */
  followPollMs?: number;
  /** The node and pod stats `/stats/summary` and `/metrics/resource` serve (404 without it). */
  summary?: () => Promise<Summary>;
  /** The kubelet's own gauges `/metrics` serves (404 without them). */
  gauges?: () => Promise<KubeletGauges>;
  /** The pods this kubelet runs, which `/pods` serves as a PodList (404 without it). */
  pods?: () => Pod[];
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function truthy(v: string | null): boolean {
  return v !== null && (v === '1' || v.toLowerCase() === 'true');
}

function containerSpecNames(pod: Pod): string[] {
  const s = pod.spec;
  return [
    ...(s?.containers ?? []).map((c) => c.name),
    ...(s?.initContainers ?? []).map((c) => c.name),
    ...(s?.ephemeralContainers ?? []).map((c) => c.name),
  ];
}

/** Whether the named container of the pod has `stdinOnce` (any kind of container). */
function stdinOnce(pod: Pod, container: string): boolean {
  const s = pod.spec;
  const all = [...(s?.containers ?? []), ...(s?.initContainers ?? []), ...(s?.ephemeralContainers ?? [])];
  return all.find((c) => c.name === container)?.stdinOnce === true;
}

/**
 * The session with its client's end of input kept from the container. Without stdinOnce a
 * container's stdin outlives an attach (the next attach reads on), and containerd, told
 * that an attach's stdin ended, also detaches its output at once: with input piped in
 * (`echo 'echo hi; exit' | kubectl debug -i …`) the shell's `hi` would be lost. The
 * session still ends when the container exits or the client goes.
 */
function keepingStdinOpen(session: ExecSession): ExecSession {
  const target = session.stdin;
  if (target === null) return session;
  const stdin = new Writable({
    write(chunk: Buffer, _enc, cb) {
      target.write(chunk, (err) => cb(err ?? null));
    },
    final(cb) {
      cb();
    },
  });
  return { ...session, stdin };
}

function waitingReason(pod: Pod, container: string): string {
  const st = pod.status;
  const all = [
    ...(st?.containerStatuses ?? []),
    ...(st?.initContainerStatuses ?? []),
    ...(st?.ephemeralContainerStatuses ?? []),
  ];
  return all.find((c) => c.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
}

/** How young a container is when attach first watches whether it outlives the attach. */
const YOUNG_CONTAINER_MS = 2000;
/** How long that watch lasts. */
const ATTACH_SETTLE_MS = 200;

/**
 * Whether an attach session just opened is to a container that is still alive. A container
 * that exited before the attach reached it (`kubectl run -i -- echo hi`: it printed and
 * exited while kubectl was connecting) may still be reported running for a moment — the
 * runtime has not processed its exit — and attaching to it yields an empty stream that ends
 * at once, so its output is never seen. Upstream's kubelet rarely meets this (it reports a
 * container running only after its next relist) and refuses attach to an exited container,
 * after which kubectl falls back to the logs. So for a young container the session is
 * watched briefly before the upgrade is accepted: if it ends having delivered nothing, the
 * container is treated as not running. Output that arrives meanwhile stays buffered in the
 * session's streams for the client.
 */
async function outlivesAttach(session: ExecSession, startedAtNanos: bigint): Promise<boolean> {
  const age = Date.now() - Number(startedAtNanos / 1_000_000n);
  if (startedAtNanos > 0n && age > YOUNG_CONTAINER_MS) return true;
  let exited = false;
  void session.exit.then(() => {
    exited = true;
  });
  const buffered = (): boolean =>
    (session.stdout?.readableLength ?? 0) + (session.stderr?.readableLength ?? 0) > 0;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  for (const end = Date.now() + ATTACH_SETTLE_MS; Date.now() < end; await sleep(10)) {
    if (buffered()) return true;
    if (exited) {
      // The last output may still be on its way into the session's streams.
      await sleep(20);
      return buffered();
    }
  }
  return true;
}

/** A running kubelet server. */
export class KubeletServer {
  private readonly server: https.Server;
  private readonly sockets = new Set<Socket>();
  private readonly abort = new AbortController();
  private readonly log: Logger;

  /** A server (call listen). */
  constructor(private readonly o: KubeletServerOptions) {
    this.log = o.logger ?? noopLogger;
    this.server = https.createServer(
      {
        key: o.tls.keyPem,
        cert: o.tls.certPem,
        ...(o.clientCAPem !== undefined ? { ca: [o.clientCAPem] } : {}),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => void this.onRequest(req, res),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onUpgrade(req, socket, head);
    });
    this.server.on('secureConnection', (sock: TLSSocket) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    // Followed logs and exec sessions last as long as the client wants.
    this.server.setTimeout(0);
    this.server.requestTimeout = 0;
  }

  /** The port the server listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Starts listening. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.address ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops listening and ends every open connection (follows and exec sessions too). */
  async close(): Promise<void> {
    this.abort.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private authenticated(socket: unknown): boolean {
    return this.o.clientCAPem !== undefined && (socket as TLSSocket).authorized === true;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet.invalid');
    try {
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
        return;
      }
      if (!this.authenticated(req.socket)) throw new HttpError(401, 'Unauthorized');
      const parts = url.pathname.split('/').filter((p) => p !== '');
      const [kind, ns, name, container] = parts;
      if (kind === 'containerLogs' && ns !== undefined && name !== undefined && container !== undefined) {
        if (req.method !== 'GET') throw new HttpError(405, 'Method Not Allowed');
        await this.serveLogs(url, ns, name, container, res);
        return;
      }
      if (kind === 'exec' || kind === 'attach' || kind === 'portForward') {
        throw new HttpError(400, 'Upgrade request required');
      }
      if (kind === 'stats' && ns === 'summary' && parts.length === 2 && this.o.summary !== undefined) {
        if (req.method !== 'GET') throw new HttpError(405, 'Method Not Allowed');
        // Indented, as the real kubelet marshals its summary.
        const body = JSON.stringify(await this.o.summary(), null, 2);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
        return;
      }
      if (kind === 'metrics' && (parts.length === 1 || (parts.length === 2 && ns === 'resource'))) {
        if (req.method !== 'GET') throw new HttpError(405, 'Method Not Allowed');
        const page = ns === 'resource' ? await this.resourceMetrics() : await this.kubeletMetrics();
        if (page === undefined) throw new HttpError(404, '404 page not found');
        res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE }).end(page);
        return;
      }
      if (kind === 'pods' && parts.length === 1 && this.o.pods !== undefined) {
        if (req.method !== 'GET') throw new HttpError(405, 'Method Not Allowed');
        const list = { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.o.pods() };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(list));
        return;
      }
      throw new HttpError(404, '404 page not found');
    } catch (e) {
      const code = e instanceof HttpError ? e.code : 500;
      if (!(e instanceof HttpError)) this.log.error('kubelet server request failed', { err: errorText(e) });
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(errorText(e));
    }
  }

  private async resourceMetrics(): Promise<string | undefined> {
    if (this.o.summary === undefined) return undefined;
    try {
      return resourceMetricsText(await this.o.summary());
    } catch (e) {
      // Upstream answers a failed collection with its error gauge set, not an error page.
      this.log.error('collecting resource metrics failed', { err: errorText(e) });
      return new MetricsText()
        .family('resource_scrape_error', 'gauge', '1 when reading the numbers failed, else 0.', [
          { value: 1 },
        ])
        .text();
    }
  }

  private async kubeletMetrics(): Promise<string | undefined> {
    return this.o.gauges === undefined ? undefined : kubeletMetricsText(await this.o.gauges());
  }

  private pod(ns: string, name: string, container: string): Pod {
    const pod = this.o.getPod(ns, name);
    if (pod === undefined) throw new HttpError(404, `pod "${name}" does not exist`);
    if (!containerSpecNames(pod).includes(container))
      throw new HttpError(404, `container "${container}" not found in pod "${name}"`);
    return pod;
  }

  /** The container's newest instance (or the one before it for `previous`). */
  private async containerOf(
    pod: Pod,
    container: string,
    previous: boolean,
  ): Promise<ContainerStatus | undefined> {
    const list = await this.o.runtime.listContainers({
      labelSelector: { [LABEL_POD_UID]: pod.metadata?.uid ?? '', [LABEL_CONTAINER_NAME]: container },
    });
    list.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    const c = list[previous ? 1 : 0];
    return c === undefined ? undefined : this.o.runtime.containerStatus(c.id);
  }

  private async serveLogs(
    url: URL,
    ns: string,
    name: string,
    container: string,
    res: ServerResponse,
  ): Promise<void> {
    const q = url.searchParams;
    const pod = this.pod(ns, name, container);
    const previous = truthy(q.get('previous'));
    const status = await this.containerOf(pod, container, previous);
    if (status === undefined) {
      throw new HttpError(
        400,
        previous
          ? `previous terminated container "${container}" in pod "${name}" not found`
          : `container "${container}" in pod "${name}" is waiting to start: ${waitingReason(pod, container)}`,
      );
    }
    const opts: ReadLogOptions = { timestamps: truthy(q.get('timestamps')) };
    const int = (key: string): number | undefined => {
      const v = q.get(key);
      if (v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n)) throw new HttpError(400, `invalid ${key} ${JSON.stringify(v)}`);
      return n;
    };
    const tail = int('tailLines');
    if (tail !== undefined) opts.tailLines = tail;
    const limit = int('limitBytes');
    if (limit !== undefined) opts.limitBytes = limit;
    const sinceSeconds = int('sinceSeconds');
    const sinceTime = q.get('sinceTime');
    if (sinceSeconds !== undefined) opts.sinceNanos = BigInt(Date.now() - sinceSeconds * 1000) * 1_000_000n;
    else if (sinceTime !== null && sinceTime !== '') {
      try {
        opts.sinceNanos = parseRfc3339Nano(sinceTime);
      } catch {
        throw new HttpError(400, `invalid sinceTime ${JSON.stringify(sinceTime)}`);
      }
    }
    const follow = truthy(q.get('follow')) && !previous && status.state === 'CONTAINER_RUNNING';
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    if (!follow) {
      res.end(readLogs(status.logPath, opts));
      return;
    }
    // The follow ends when the client goes away, the server stops or the container exits.
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    res.once('close', stop);
    this.abort.signal.addEventListener('abort', stop, { once: true });
    // The client must see the headers before the first line arrives, or kubectl waits.
    res.flushHeaders();
    try {
      for await (const chunk of followLogs(status.logPath, {
        ...opts,
        signal: ac.signal,
        pollMs: this.o.followPollMs ?? 200,
        until: async () => {
          try {
            return (await this.o.runtime.containerStatus(status.id)).state !== 'CONTAINER_RUNNING';
          } catch {
            return true;
          }
        },
      })) {
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
      }
    } finally {
      this.abort.signal.removeEventListener('abort', stop);
      res.end();
    }
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'https://kubelet.invalid');
    const [kind, ns, name, container] = url.pathname.split('/').filter((p) => p !== '');
    try {
      if (!this.authenticated(socket)) throw new HttpError(401, 'Unauthorized');
      if (kind === 'portForward' && ns !== undefined && name !== undefined) {
        await this.servePortForward(req, url, socket, head, ns, name, container);
        return;
      }
      if (
        (kind !== 'exec' && kind !== 'attach') ||
        ns === undefined ||
        name === undefined ||
        container === undefined
      )
        throw new HttpError(404, '404 page not found');
      const websocket = isWebSocketRequest(req.headers);
      if (!websocket && !isSpdyRequest(req.headers))
        throw new HttpError(400, 'unable to upgrade: missing upgrade headers in request');
      const q = url.searchParams;
      const flag = (a: string, b: string): boolean => truthy(q.get(a)) || truthy(q.get(b));
      const tty = truthy(q.get('tty'));
      const opts: StreamOptions = {
        stdin: flag('input', 'stdin'),
        stdout: flag('output', 'stdout'),
        // A terminal merges stderr into stdout; upstream ignores the stderr stream with tty.
        stderr: flag('error', 'stderr') && !tty,
        tty,
      };
      if (!opts.stdin && !opts.stdout && !opts.stderr)
        throw new HttpError(400, 'you must specify at least 1 of stdin, stdout, stderr');
      const command = q.getAll('command');
      if (kind === 'exec' && command.length === 0) throw new HttpError(400, 'you must specify a command');
      const pod = this.pod(ns, name, container);
      // Upstream's GetExec/GetAttach look among running containers only and answer 500.
      const notRunning =
        kind === 'exec'
          ? `container not found ("${container}")`
          : `container ${container} not found in pod ${name}_${ns}`;
      const status = await this.containerOf(pod, container, false);
      if (status === undefined || status.state !== 'CONTAINER_RUNNING') throw new HttpError(500, notRunning);
      let attached: ExecSession | undefined;
      if (kind === 'attach') {
        attached = await this.o.runtime.attach(status.id, opts).catch((e: unknown) => {
          throw new HttpError(500, errorText(e));
        });
        if (!(await outlivesAttach(attached, status.startedAt))) {
          attached.close();
          throw new HttpError(500, notRunning);
        }
        if (!stdinOnce(pod, container)) attached = keepingStdinOpen(attached);
      }
      const run = (): Promise<ExecSession> =>
        attached !== undefined ? Promise.resolve(attached) : this.o.runtime.exec(status.id, command, opts);
      const failed = (e: unknown): StreamStatus =>
        internalErrorStatus(`error executing command in container: ${errorText(e)}`);
      const exitWith = (code: number): StreamStatus =>
        kind === 'exec' ? exitStatus(code, command) : exitStatus(0, []);
      if (!websocket) {
        const spdy = acceptSpdyUpgrade(req.headers, socket, head, SPDY_REMOTE_COMMAND_PROTOCOLS);
        if (!('transport' in spdy)) {
          refuseUpgrade(socket, spdy);
          return;
        }
        await serveRemoteCommandSpdy(spdy.transport, {
          protocol: spdy.protocol,
          streams: opts,
          start: run,
          status: exitWith,
          startFailure: failed,
        });
        return;
      }
      const accepted = acceptWebSocket(req.headers, socket, head, REMOTE_COMMAND_PROTOCOLS);
      if (!('ws' in accepted)) {
        refuseUpgrade(socket, accepted);
        return;
      }
      const { ws, protocol } = accepted;
      const early = holdEarlyMessages(ws);
      let session: ExecSession;
      try {
        session = await run();
      } catch (e) {
        early.stop?.();
        finishWithStatus(ws, failed(e));
        return;
      }
      await serveRemoteCommand(ws, protocol, session, exitWith, early);
    } catch (e) {
      const code = e instanceof HttpError ? e.code : 500;
      if (!(e instanceof HttpError))
        this.log.error('kubelet streaming request failed', { err: errorText(e) });
      refuseUpgrade(socket, { code, message: errorText(e) });
    }
  }

  /**
   * Port forwarding into a pod's sandbox: SPDY/3.1 either tunneled in WebSocket binary
   * messages (`SPDY/3.1+portforward.k8s.io`, kubectl's first try) or on the upgraded socket
   * itself (`Upgrade: SPDY/3.1`, its fallback). `uid`, when given, must match the pod.
   */
  private async servePortForward(
    req: IncomingMessage,
    url: URL,
    socket: Duplex,
    head: Buffer,
    ns: string,
    name: string,
    uid: string | undefined,
  ): Promise<void> {
    const pod = this.o.getPod(ns, name);
    if (pod === undefined) throw new HttpError(404, 'pod does not exist');
    const podUid = pod.metadata?.uid ?? '';
    if (uid !== undefined && uid !== podUid) throw new HttpError(404, 'pod not found');
    const sandboxes = await this.o.runtime.listPodSandbox({
      labelSelector: { [LABEL_POD_UID]: podUid },
      state: 'SANDBOX_READY',
    });
    const sandbox = sandboxes.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
    if (sandbox === undefined) throw new HttpError(404, `pod "${name}" has no running sandbox`);
    // The plain WebSocket protocol names its ports up front (upstream's V4Options).
    const ports = url.searchParams.getAll('port').map((p) => {
      if (!/^\d+$/.test(p) || Number(p) > 65535) throw new HttpError(400, `unable to parse "${p}" as a port`);
      if (Number(p) < 1) throw new HttpError(400, `port "${p}" must be > 0`);
      return Number(p);
    });
    const tunneled = offeredProtocols(req.headers).includes(PORT_FORWARD_TUNNEL_PROTOCOL);
    if (isWebSocketRequest(req.headers) && !tunneled && ports.length === 0)
      throw new HttpError(400, 'query parameter "port" is required');
    const forwarder = await this.o.runtime.portForward(sandbox.id);
    let transport: SpdyTransport;
    if (isWebSocketRequest(req.headers)) {
      const accepted = acceptWebSocket(req.headers, socket, head, [
        PORT_FORWARD_TUNNEL_PROTOCOL,
        PORT_FORWARD_WEBSOCKET_PROTOCOL,
      ]);
      if (!('ws' in accepted)) {
        refuseUpgrade(socket, accepted);
        return;
      }
      if (accepted.protocol === PORT_FORWARD_WEBSOCKET_PROTOCOL) {
        servePortForwardWebSocket(accepted.ws, ports, { forwarder, podId: sandbox.id });
        accepted.ws.once('close', () => forwarder.close());
        return;
      }
      transport = webSocketTransport(accepted.ws);
    } else {
      const accepted = acceptSpdyUpgrade(req.headers, socket, head, [PORT_FORWARD_PROTOCOL]);
      if (!('transport' in accepted)) {
        refuseUpgrade(socket, accepted);
        return;
      }
      transport = accepted.transport;
    }
    const conn = servePortForward(transport, { forwarder, podId: sandbox.id, logger: this.log });
    const stop = (): void => conn.close();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    conn.once('close', () => {
      this.abort.signal.removeEventListener('abort', stop);
      forwarder.close();
    });
  }
}

/** Starts a kubelet server; resolves once it listens. */
export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const s = new KubeletServer(o);
  await s.listen();
  return s;
}
