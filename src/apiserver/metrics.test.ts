import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiServerMetrics, requestLabels } from './metrics.js';
import { parseRequestInfo } from './request-info.js';

const info = (method: string, path: string) => parseRequestInfo(method, new URL(path, 'https://x.invalid'));

describe('requestLabels', () => {
  const cases: Array<{ method: string; path: string; ct?: string; want: Partial<Record<string, string>> }> = [
    { method: 'GET', path: '/api/v1/pods', want: { verb: 'LIST', scope: 'cluster', resource: 'pods' } },
    {
      method: 'GET',
      path: '/api/v1/namespaces/a/pods?watch=true',
      want: { verb: 'WATCH', scope: 'namespace', version: 'v1' },
    },
    { method: 'GET', path: '/api/v1/namespaces/a/pods/p', want: { verb: 'GET', scope: 'resource' } },
    {
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/a/deployments/d',
      ct: 'application/apply-patch+yaml',
      want: { verb: 'APPLY', group: 'apps' },
    },
    {
      method: 'POST',
      path: '/api/v1/namespaces/a/pods/p/exec',
      want: { verb: 'CONNECT', subresource: 'exec' },
    },
    { method: 'GET', path: '/healthz', want: { verb: 'GET', scope: '', resource: '', version: '' } },
  ];
  for (const c of cases) {
    it(`${c.method} ${c.path}`, () => {
      const l = requestLabels(info(c.method, c.path), c.method, c.ct, 200, false);
      for (const [k, v] of Object.entries(c.want)) assert.equal(l[k as keyof typeof l], v, k);
      assert.equal(l.component, 'apiserver');
    });
  }
});

describe('ApiServerMetrics', () => {
  it('counts finished requests once and tracks those in flight', () => {
    const m = new ApiServerMetrics();
    const done = m.start(true);
    assert.match(m.render(), /^apiserver_current_inflight_requests\{request_kind="mutating"\} 1$/m);
    const labels = requestLabels(info('POST', '/api/v1/namespaces/a/pods'), 'POST', undefined, 201, true);
    done(labels);
    done(labels);
    m.start(false)(requestLabels(info('GET', '/version'), 'GET', undefined, 200, false));
    const text = m.render();
    assert.match(text, /^apiserver_current_inflight_requests\{request_kind="mutating"\} 0$/m);
    assert.match(
      text,
      /^apiserver_request_total\{code="201",component="apiserver",dry_run="All",group="",resource="pods",scope="namespace",subresource="",verb="POST",version="v1"\} 1$/m,
    );
    assert.match(text, /^apiserver_request_total\{code="200",.*verb="GET",version=""\} 1$/m);
    assert.match(text, /^# TYPE apiserver_request_total counter$/m);
    assert.match(text, /^kubernetes_build_info\{.*git_version="v1\.32\.\d+-kts[^"]*".*\} 1$/m);
    assert.ok(text.endsWith('\n'));
  });
});
