// A raw HTTPS client for the API server that authenticates with the admin kubeconfig's
// client certificate. Tests and benchmarks use it to send exactly the bytes they mean
// (malformed bodies, odd headers) over a bounded pool of keep-alive connections.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';

/** Credentials and address taken from a kubeconfig. */
export interface ClientConfig {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** A response with its body read fully. */
export interface RawResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as text. */
  text: string;
}

/** One request to send. */
export interface RawRequestSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Fails the request with an error when no full answer came within this time. */
  timeoutMs?: number;
}

/** Reads the cluster address and admin credentials from a kubeconfig file. */
export function readClientConfig(kubeconfigPath: string): ClientConfig {
  const kc = parse(readFileSync(kubeconfigPath, 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  };
  const cluster = kc.clusters[0]?.cluster;
  const user = kc.users[0]?.user;
  if (!cluster || !user) throw new Error(`kubeconfig ${kubeconfigPath} has no cluster or user`);
  const b = (s: string): Buffer => Buffer.from(s, 'base64');
  return {
    server: cluster.server,
    ca: b(cluster['certificate-authority-data']),
    cert: b(user['client-certificate-data']),
    key: b(user['client-key-data']),
  };
}

/** An HTTPS/1.1 client with a fixed number of keep-alive sockets. */
export class HttpsClient {
  readonly agent: https.Agent;
  private readonly url: URL;

  constructor(
    readonly config: ClientConfig,
    maxSockets = 8,
  ) {
    this.url = new URL(config.server);
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      ca: config.ca,
      cert: config.cert,
      key: config.key,
    });
  }

  /** Sends one request and reads the whole response. */
  request(spec: RawRequestSpec): Promise<RawResult> {
    return new Promise((resolve, reject) => {
      const body =
        spec.body === undefined
          ? undefined
          : typeof spec.body === 'string'
            ? Buffer.from(spec.body)
            : Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
      const headers: Record<string, string> = { ...(spec.headers ?? {}) };
      if (body !== undefined) headers['content-length'] = String(body.length);
      const req = https.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: spec.method ?? 'GET',
          path: spec.path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const b = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      if (spec.timeoutMs !== undefined) {
        const t = setTimeout(
          () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)),
          spec.timeoutMs,
        );
        req.on('close', () => clearTimeout(t));
      }
      req.end(body);
    });
  }

  /** Sends a JSON body (or none) and parses the JSON response. */
  async json(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: RawResult['headers']; obj: Record<string, unknown> }> {
    const r = await this.request({
      method,
      path,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(r.text) as Record<string, unknown>;
    } catch {
      throw new Error(`${method} ${path}: ${r.status} with a non-JSON body: ${r.text.slice(0, 200)}`);
    }
    return { status: r.status, headers: r.headers, obj };
  }

  /** Opens a streaming GET (a watch) and hands each response chunk to `onData`. */
  stream(path: string, onData: (chunk: string) => void, signal: AbortSignal): Promise<{ status: number }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: 'GET',
          path,
          headers: { accept: 'application/json' },
          signal,
        },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (c: string) => onData(c));
          res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', (e) => {
        if (signal.aborted) resolve({ status: 0 });
        else reject(e);
      });
      req.end();
    });
  }

  /** Closes every socket. */
  close(): void {
    this.agent.destroy();
  }
}
