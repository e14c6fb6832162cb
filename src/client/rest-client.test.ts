import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isNotFound, isResourceExpired, StatusError } from '../machinery/status-error.js';

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
