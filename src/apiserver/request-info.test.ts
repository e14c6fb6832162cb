import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestInfo, type RequestInfo } from './request-info.js';

function info(method: string, path: string): Partial<RequestInfo> {
  const i = parseRequestInfo(method, new URL(path, 'https://x'));
  return {
    isResourceRequest: i.isResourceRequest,
    verb: i.verb,
    apiGroup: i.apiGroup,
    apiVersion: i.apiVersion,
    namespace: i.namespace,
    resource: i.resource,
    subresource: i.subresource,
    name: i.name,
  };
}

const r = (
  verb: string,
  apiGroup: string,
  apiVersion: string,
  namespace: string,
  resource: string,
  subresource: string,
  name: string,
) => ({
  isResourceRequest: true,
  verb,
  apiGroup,
  apiVersion,
  namespace,
  resource,
  subresource,
  name,
});

describe('parseRequestInfo', () => {
  const cases: Array<[string, string, Partial<RequestInfo>]> = [
    ['GET', '/api/v1/namespaces', r('list', '', 'v1', '', 'namespaces', '', '')],
    ['GET', '/api/v1/namespaces/other', r('get', '', 'v1', 'other', 'namespaces', '', 'other')],
    ['GET', '/api/v1/namespaces/other/pods', r('list', '', 'v1', 'other', 'pods', '', '')],
    ['GET', '/api/v1/namespaces/other/pods/foo', r('get', '', 'v1', 'other', 'pods', '', 'foo')],
    ['HEAD', '/api/v1/namespaces/other/pods/foo', r('get', '', 'v1', 'other', 'pods', '', 'foo')],
    ['GET', '/api/v1/pods', r('list', '', 'v1', '', 'pods', '', '')],
    ['GET', '/api/v1/pods?watch=true', r('watch', '', 'v1', '', 'pods', '', '')],
    // Booleans as upstream's parameter codec reads them (the Python client sends `True`).
    ['GET', '/api/v1/pods?watch=True', r('watch', '', 'v1', '', 'pods', '', '')],
    ['GET', '/api/v1/pods?watch=', r('watch', '', 'v1', '', 'pods', '', '')],
    ['GET', '/api/v1/pods?watch=FALSE', r('list', '', 'v1', '', 'pods', '', '')],
    ['GET', '/api/v1/pods?watch=0', r('list', '', 'v1', '', 'pods', '', '')],
    ['GET', '/api/v1/watch/pods', r('watch', '', 'v1', '', 'pods', '', '')],
    ['GET', '/api/v1/watch/namespaces/other/pods', r('watch', '', 'v1', 'other', 'pods', '', '')],
    [
      'GET',
      '/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo',
      r('list', '', 'v1', 'other', 'pods', '', 'foo'),
    ],
    ['POST', '/api/v1/namespaces/other/pods', r('create', '', 'v1', 'other', 'pods', '', '')],
    ['PUT', '/api/v1/namespaces/other/pods/foo', r('update', '', 'v1', 'other', 'pods', '', 'foo')],
    ['PATCH', '/api/v1/namespaces/other/pods/foo', r('patch', '', 'v1', 'other', 'pods', '', 'foo')],
    ['DELETE', '/api/v1/namespaces/other/pods/foo', r('delete', '', 'v1', 'other', 'pods', '', 'foo')],
    ['DELETE', '/api/v1/namespaces/other/pods', r('deletecollection', '', 'v1', 'other', 'pods', '', '')],
    ['GET', '/api/v1/namespaces/other/pods/foo/log', r('get', '', 'v1', 'other', 'pods', 'log', 'foo')],
    [
      'PUT',
      '/api/v1/namespaces/other/finalize',
      r('update', '', 'v1', 'other', 'namespaces', 'finalize', 'other'),
    ],
    [
      'PUT',
      '/api/v1/namespaces/other/status',
      r('update', '', 'v1', 'other', 'namespaces', 'status', 'other'),
    ],
    [
      'GET',
      '/apis/apps/v1/namespaces/ns/deployments/web/scale',
      r('get', 'apps', 'v1', 'ns', 'deployments', 'scale', 'web'),
    ],
    ['GET', '/apis/apps/v1/deployments', r('list', 'apps', 'v1', '', 'deployments', '', '')],
    ['GET', '/api/v1/namespaces/ns/pods/p/proxy/a/b', r('get', '', 'v1', 'ns', 'pods', 'proxy', 'p')],
    // The proxied path never changes what is authorized: `proxy` is the subresource, the
    // rest only `parts`, and the verb comes from the method (a name is always present).
    ['GET', '/api/v1/nodes/n1/proxy/stats/summary', r('get', '', 'v1', '', 'nodes', 'proxy', 'n1')],
    ['GET', '/api/v1/nodes/n1/proxy', r('get', '', 'v1', '', 'nodes', 'proxy', 'n1')],
    ['HEAD', '/api/v1/nodes/n1/proxy/healthz', r('get', '', 'v1', '', 'nodes', 'proxy', 'n1')],
    ['POST', '/api/v1/nodes/n1/proxy/run/x', r('create', '', 'v1', '', 'nodes', 'proxy', 'n1')],
    ['PUT', '/api/v1/namespaces/ns/pods/p:80/proxy/', r('update', '', 'v1', 'ns', 'pods', 'proxy', 'p:80')],
    ['PATCH', '/api/v1/namespaces/ns/pods/p/proxy/x', r('patch', '', 'v1', 'ns', 'pods', 'proxy', 'p')],
    ['DELETE', '/api/v1/namespaces/ns/pods/p/proxy/x', r('delete', '', 'v1', 'ns', 'pods', 'proxy', 'p')],
    ['OPTIONS', '/api/v1/namespaces/ns/pods/p/proxy/x', r('', '', 'v1', 'ns', 'pods', 'proxy', 'p')],
    [
      'GET',
      '/api/v1/namespaces/ns/services/https:web:443/proxy/namespaces/a/pods?watch=true',
      r('get', '', 'v1', 'ns', 'services', 'proxy', 'https:web:443'),
    ],
    [
      'DELETE',
      '/api/v1/namespaces/ns/services/web:http/proxy/',
      r('delete', '', 'v1', 'ns', 'services', 'proxy', 'web:http'),
    ],
  ];
  for (const [method, path, want] of cases) {
    it(`${method} ${path}`, () => assert.deepEqual(info(method, path), want));
  }

  it('keeps the proxied path in parts', () => {
    const i = parseRequestInfo('GET', new URL('/api/v1/nodes/n1/proxy/stats/summary', 'https://x'));
    assert.deepEqual(i.parts, ['nodes', 'n1', 'proxy', 'stats', 'summary']);
  });

  for (const path of [
    '/',
    '/api',
    '/api/v1',
    '/apis',
    '/apis/apps',
    '/apis/apps/v1',
    '/version',
    '/openapi/v3',
    '/healthz',
  ]) {
    it(`non-resource ${path}`, () => {
      const i = parseRequestInfo('GET', new URL(path, 'https://x'));
      assert.equal(i.isResourceRequest, false);
      assert.equal(i.verb, 'get');
    });
  }
});
