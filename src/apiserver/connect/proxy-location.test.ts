import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestInfo } from '../request-info.js';
import { isProxyableIP, splitSchemeNamePort } from './proxy-location.js';
import { dialErrorText, forwardHeaders, proxySubpath } from './resource-proxy.js';

describe('splitSchemeNamePort', () => {
  const cases: Array<[string, ReturnType<typeof splitSchemeNamePort>]> = [
    ['web', { scheme: '', name: 'web', port: '' }],
    ['web:8080', { scheme: '', name: 'web', port: '8080' }],
    ['web:http', { scheme: '', name: 'web', port: 'http' }],
    ['https:web:443', { scheme: 'https', name: 'web', port: '443' }],
    ['http:web:', { scheme: 'http', name: 'web', port: '' }],
    ['ftp:web:21', undefined],
    [':80', undefined],
    ['a:b:c:d', undefined],
  ];
  for (const [id, want] of cases) it(id, () => assert.deepEqual(splitSchemeNamePort(id), want));
});

describe('isProxyableIP', () => {
  const cases: Array<[string, boolean]> = [
    ['10.42.0.5', true],
    ['127.0.0.1', true],
    ['', false],
    ['0.0.0.0', false],
    ['169.254.169.254', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['fd00::1', true],
    ['::', false],
    ['fe80::1', false],
    ['ff02::1', false],
    ['not-an-ip', false],
  ];
  for (const [ip, want] of cases) it(ip || '(empty)', () => assert.equal(isProxyableIP(ip), want));
});

describe('proxySubpath', () => {
  const cases: Array<[string, string]> = [
    ['/api/v1/nodes/n/proxy', ''],
    ['/api/v1/nodes/n/proxy/', '/'],
    ['/api/v1/nodes/n/proxy/stats/summary', '/stats/summary'],
    ['/api/v1/namespaces/ns/pods/p:80/proxy/a%20b/c/', '/a%20b/c/'],
    ['/api/v1/namespaces/ns/services/https:s:443/proxy/pods/x/proxy/y', '/pods/x/proxy/y'],
  ];
  for (const [path, want] of cases) {
    it(path, () => {
      const url = new URL(path, 'https://x');
      assert.equal(proxySubpath(url.pathname, parseRequestInfo('GET', url)), want);
    });
  }
});

describe('forwardHeaders', () => {
  it('drops hop-by-hop, connection-named, pseudo and dropped headers', () => {
    const out = forwardHeaders(
      {
        ':authority': 'x',
        connection: 'keep-alive, x-private',
        'keep-alive': 'timeout=5',
        'x-private': '1',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        authorization: 'Bearer t',
        'content-type': 'text/plain',
        'set-cookie': ['a=1', 'b=2'],
      },
      (n) => n === 'authorization',
    );
    assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });
});

describe('dialErrorText', () => {
  const err = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });
  it('renders Go dial errors', () => {
    const loc = { scheme: 'http' as const, host: '10.0.0.1', port: 80 };
    assert.equal(
      dialErrorText(loc, err('ECONNREFUSED')),
      'dial tcp 10.0.0.1:80: connect: connection refused',
    );
    assert.equal(dialErrorText(loc, err('ETIMEDOUT')), 'dial tcp 10.0.0.1:80: i/o timeout');
    assert.equal(
      dialErrorText({ ...loc, host: 'fd00::1' }, err('EHOSTUNREACH')),
      'dial tcp [fd00::1]:80: connect: no route to host',
    );
  });
});
