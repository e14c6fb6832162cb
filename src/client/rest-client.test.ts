import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isNotFound, isResourceExpired, StatusError } from '../machinery/status-error.js';
import { createKeyPair } from '../pki/x509.js';

const isServiceUnavailable = (e: unknown): boolean =>
  e instanceof StatusError && e.reason === 'ServiceUnavailable';
import { CONFIGMAPS } from './resources.js';
import { RestClient } from './rest-client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_q, s) => s.end();
let server: Server;
let url = '';

before(async () => {
  server = createServer((q, s) => handler(q, s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const json = (
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('RestClient', () => {
  it('retries 429 (honouring Retry-After) and 5xx for GET, not 5xx for POST', async () => {
    const seen: string[] = [];
    let n = 0;
    handler = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      n++;
      if (req.method === 'GET' && n === 1)
        return json(
          res,
          429,
          { kind: 'Status', code: 429, reason: 'TooManyRequests' },
          { 'Retry-After': '0' },
        );
      if (n <= 2) return json(res, 503, {});
      json(res, 200, { metadata: { name: 'x' } });
    };
    const c = new RestClient({ server: url }, { retryBaseMs: 1 });
    const got = await c.resource(CONFIGMAPS).get('ns', 'x');
    assert.equal(got.metadata?.name, 'x');
    assert.equal(seen.length, 3);
    assert.equal(seen[0], 'GET /api/v1/namespaces/ns/configmaps/x');
    n = 1;
    await assert.rejects(c.resource(CONFIGMAPS).create('ns', { metadata: { name: 'y' } }), (e) =>
      isServiceUnavailable(e),
    );
    c.close();
  });

  it('decodes a Status body and falls back to upstream wording without one', async () => {
    handler = (req, res) => {
      if (req.url?.endsWith('/a'))
        return json(res, 404, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          code: 404,
          reason: 'NotFound',
          message: 'configmaps "a" not found',
        });
      res.writeHead(404);
      res.end('404 page not found');
    };
    const c = new RestClient({ server: url });
    await assert.rejects(
      c.resource(CONFIGMAPS).get('ns', 'a'),
      (e: Error) => isNotFound(e) && e.message === 'configmaps "a" not found',
    );
    await assert.rejects(
      c.resource(CONFIGMAPS).get('ns', 'b'),
      (e: Error) => isNotFound(e) && e.message.startsWith('the server could not find the requested resource'),
    );
    c.close();
  });

  it('sends query options, bearer tokens and patch content types', async () => {
    let last: IncomingMessage | undefined;
    handler = (req, res) => {
      last = req;
      req.resume();
      json(res, 200, { metadata: {}, items: [] });
    };
    const c = new RestClient({ server: url, token: 'abc' });
    await c.resource(CONFIGMAPS).list('', { labelSelector: 'a=b', limit: 5, resourceVersion: '0' });
    assert.equal(last?.url, '/api/v1/configmaps?labelSelector=a%3Db&limit=5&resourceVersion=0');
    assert.equal(last?.headers.authorization, 'Bearer abc');
    await c.resource(CONFIGMAPS).patch('ns', 'x', 'apply', {}, { fieldManager: 'me', force: true });
    assert.equal(last?.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(last?.url, '/api/v1/namespaces/ns/configmaps/x?fieldManager=me&force=true');
    await c.resource(CONFIGMAPS).delete('ns', 'x', { propagationPolicy: 'Foreground' });
    assert.equal(last?.method, 'DELETE');
    c.close();
  });

  it('decodes watch events split across chunks and surfaces ERROR as StatusError', async () => {
    handler = (req, res) => {
      assert.match(req.url ?? '', /watch=true/);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const line1 = JSON.stringify({
        type: 'ADDED',
        object: { metadata: { name: 'é1', resourceVersion: '5' } },
      });
      const buf = Buffer.from(`${line1}\n`);
      // Split inside the multi-byte character.
      const cut = buf.indexOf(Buffer.from('é')) + 1;
      res.write(buf.subarray(0, cut));
      setTimeout(() => {
        res.write(buf.subarray(cut));
        res.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`,
        );
      }, 5);
    };
    const c = new RestClient({ server: url });
    const types: string[] = [];
    for await (const ev of c.resource(CONFIGMAPS).watch('', { resourceVersion: '1' })) {
      types.push(ev.type);
      if (ev.type === 'ADDED') assert.equal(ev.object.metadata?.name, 'é1');
      if (ev.type === 'ERROR') assert.ok(isResourceExpired(ev.error));
    }
    assert.deepEqual(types, ['ADDED', 'ERROR']);
    c.close();
  });

  it('ends a watch quietly when the signal aborts', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    };
    const c = new RestClient({ server: url });
    const ac = new AbortController();
    let n = 0;
    for await (const _ of c.resource(CONFIGMAPS).watch('', { signal: ac.signal })) {
      n++;
      ac.abort();
    }
    assert.equal(n, 1);
    c.close();
  });
});

describe('RestClient over HTTP/2', () => {
  const year = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const tls = createKeyPair({
    subject: { commonName: '127.0.0.1' },
    notAfter: year,
    isCA: true,
    usages: ['serverAuth'],
    sans: ['127.0.0.1'],
  });
  let h2server: http2.Http2SecureServer;
  let h2url = '';
  let h2handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void = (_q, s) => s.end();
  before(async () => {
    h2server = http2.createSecureServer({ key: tls.keyPem, cert: tls.certPem, allowHTTP1: true }, (q, s) =>
      h2handler(q, s),
    );
    await new Promise<void>((r) => h2server.listen(0, '127.0.0.1', r));
    h2url = `https://127.0.0.1:${(h2server.address() as AddressInfo).port}`;
  });
  after(() => h2server.close());

  it('sends whole-body requests over one HTTP/2 session, streams over HTTP/1.1, and decodes errors', async () => {
    const seen: string[] = [];
    h2handler = (req, res) => {
      seen.push(`${req.httpVersion} ${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      if (req.url.includes('watch=true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'w' } } })}\n`);
        return;
      }
      if (req.url.endsWith('/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'gone' }));
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(body === '' ? JSON.stringify({ metadata: { name: 'got' } }) : body);
      });
    };
    const c = new RestClient({ server: h2url, caData: tls.certPem, token: 't' }, { http2: true });
    const cms = c.resource(CONFIGMAPS);
    const made = await Promise.all(
      ['a', 'b', 'c'].map((name) => cms.create('ns', { metadata: { name }, data: { k: name } })),
    );
    assert.deepEqual(
      made.map((m) => m.data?.k),
      ['a', 'b', 'c'],
    );
    assert.equal((await cms.get('ns', 'x')).metadata?.name, 'got');
    await assert.rejects(cms.get('ns', 'missing'), (e) => isNotFound(e) && (e as Error).message === 'gone');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(cms.get('ns', 'x', { signal: ac.signal }));
    const watched: string[] = [];
    for await (const ev of cms.watch('ns', { resourceVersion: '1' })) {
      if (ev.type === 'ADDED') watched.push(ev.object.metadata?.name ?? '');
    }
    assert.deepEqual(watched, ['w']);
    assert.deepEqual(
      seen.map((s) => s.split(' ')[0]),
      ['2.0', '2.0', '2.0', '2.0', '2.0', '1.1'],
    );
    assert.ok(seen.every((s) => s.endsWith('Bearer t')));
    c.close();
  });

  it('reconnects after close and reports a refused connection as ECONNREFUSED', async () => {
    h2handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ metadata: { name: 'ok' } }));
    };
    const c = new RestClient(
      { server: h2url, caData: tls.certPem },
      { http2: true, retryBaseMs: 1, maxRetries: 1 },
    );
    assert.equal((await c.resource(CONFIGMAPS).get('ns', 'x')).metadata?.name, 'ok');
    c.close();
    // A closed client reconnects on the next request.
    assert.equal((await c.resource(CONFIGMAPS).get('ns', 'x')).metadata?.name, 'ok');
    c.close();
    const dead = new RestClient(
      { server: 'https://127.0.0.1:1', caData: tls.certPem },
      { http2: true, maxRetries: 0 },
    );
    await assert.rejects(
      dead.resource(CONFIGMAPS).get('ns', 'x'),
      (e) => (e as { code?: string }).code === 'ECONNREFUSED',
    );
    dead.close();
  });
});
