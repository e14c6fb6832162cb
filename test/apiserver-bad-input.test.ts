// Bad input against a real API server over HTTPS: every malformed, oversized, invalid or
// misaddressed request gets upstream's metav1.Status (code, reason and, where upstream
// fixes it, the message), and none of them hurts the server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeProtobuf } from '../src/api/codec/protobuf.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { HttpsClient, type RawResult, readClientConfig } from './helpers/https-client.js';

let api: TestApiServer;
let c: HttpsClient;

before(async () => {
  api = await startTestApiServer();
  c = new HttpsClient(readClientConfig(api.server.kubeconfigPath), 4);
});

after(async () => {
  c.close();
  await api.stop();
});

const PODS = '/api/v1/namespaces/default/pods';
const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const CMS = '/api/v1/namespaces/default/configmaps';
const JSON_CT = { 'content-type': 'application/json' };
const PB_CT = { 'content-type': 'application/vnd.kubernetes.protobuf' };

function pod(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
  };
}

function deployment(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      ...spec,
    },
  };
}

interface Expect {
  code: number;
  reason: string;
  message?: string | RegExp;
}

/** Asserts that a response is a Failure Status with this code, reason and message. */
function assertStatus(r: RawResult, want: Expect): Record<string, unknown> {
  assert.equal(r.status, want.code, `HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  const s = JSON.parse(r.text) as Record<string, unknown>;
  assert.equal(s.kind, 'Status');
  assert.equal(s.apiVersion, 'v1');
  assert.equal(s.status, 'Failure');
  assert.equal(s.code, want.code);
  assert.equal(s.reason, want.reason);
  if (typeof want.message === 'string') assert.equal(s.message, want.message);
  else if (want.message) assert.match(String(s.message), want.message);
  return s;
}

async function post(path: string, body: string | Uint8Array, headers = JSON_CT): Promise<RawResult> {
  return c.request({ method: 'POST', path, headers, body });
}

describe('undecodable bodies', () => {
  it('malformed JSON is a 400 with upstream decode wording', async () => {
    const body = '{"apiVersion":"v1",';
    assertStatus(await post(PODS, body), {
      code: 400,
      reason: 'BadRequest',
      message: `the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: unexpected end of JSON input (${body})`,
    });
    const body2 = '{"apiVersion":"v1" "kind":"Pod","metadata":{"name":"a-rather-long-name"}}';
    assertStatus(await post(PODS, body2), {
      code: 400,
      reason: 'BadRequest',
      message: `the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: invalid character '"' after object key:value pair (${body2.slice(0, 30)} ...)`,
    });
  });

  it('malformed YAML is a 400', async () => {
    const r = await post(PODS, 'apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n  - : :', {
      'content-type': 'application/yaml',
    });
    assertStatus(r, {
      code: 400,
      reason: 'BadRequest',
      message:
        /^the object provided is unrecognized \(must be of type Pod\): error converting YAML to JSON: yaml: /,
    });
  });

  it('truncated and garbage protobuf are 400s, with and without the k8s\\0 prefix', async () => {
    const pb = encodeProtobuf(pod('pb-ok'));
    assert.equal(Buffer.from(pb.subarray(0, 4)).toString('latin1'), 'k8s\0');
    const cases: Array<[string, Uint8Array]> = [
      ['truncated', pb.subarray(0, pb.length - 7)],
      ['prefix only', pb.subarray(0, 4)],
      ['garbage after prefix', Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff, 0xff, 0x0a, 0x99])],
      ['garbage', Buffer.from('hello, this is not protobuf')],
      ['no prefix', pb.subarray(4)],
    ];
    for (const [what, body] of cases) {
      const r = await post(PODS, body, PB_CT);
      assertStatus(r, {
        code: 400,
        reason: 'BadRequest',
        message: /must be of type Pod|cannot be handled as a Pod/,
      });
      assert.ok(r.status === 400, what);
    }
    const noPrefix = await post(PODS, Buffer.from('hello'), PB_CT);
    assertStatus(noPrefix, {
      code: 400,
      reason: 'BadRequest',
      message:
        'the object provided is unrecognized (must be of type Pod): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (68656c6c6f)',
    });
    // The valid encoding is still accepted.
    assert.equal((await post(PODS, pb, PB_CT)).status, 201);
  });

  it('a body over 3 MiB is a 413', async () => {
    const big = JSON.stringify(pod('big', { annotations: { a: 'x'.repeat(3 * 1024 * 1024) } }));
    assertStatus(await post(PODS, big), {
      code: 413,
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: limit is 3145728',
    });
  });

  it('20,000 levels of nesting are a 400 and the server lives on', async () => {
    for (const body of [
      '['.repeat(20000) + ']'.repeat(20000),
      `${'{"a":'.repeat(20000)}1${'}'.repeat(20000)}`,
    ]) {
      assertStatus(await post(PODS, body), {
        code: 400,
        reason: 'BadRequest',
        message: /exceeded max depth/,
      });
    }
    assert.equal((await c.request({ path: '/readyz' })).text, 'ok');
  });

  it('numbers out of range and of the wrong kind are 400s worded as Go', async () => {
    const table: Array<[string, string]> = [
      ['1.5', 'number 1.5'],
      ['-3000000000', 'number -3000000000'],
      ['"two"', 'string'],
      ['true', 'bool'],
      ['{}', 'object'],
    ];
    for (const [value, what] of table) {
      const body = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"n"},"spec":{"replicas":${value}}}`;
      assertStatus(await post(DEPLOYS, body), {
        code: 400,
        reason: 'BadRequest',
        message: `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal ${what} into Go struct field DeploymentSpec.spec.replicas of type int32`,
      });
    }
    // Go quotes the literal; kts names the parsed double (1e+20, Infinity): same code and shape.
    for (const value of ['99999999999999999999', '1e400', '-1e400']) {
      const body = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"n"},"spec":{"replicas":${value}}}`;
      assertStatus(await post(DEPLOYS, body), {
        code: 400,
        reason: 'BadRequest',
        message:
          /^Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number \S+ into Go struct field DeploymentSpec\.spec\.replicas of type int32$/,
      });
    }
    // A huge number where any float64 fits is accepted as Go would (a float64 field).
    const hpa = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'huge', annotations: { n: '1' } },
      data: { big: '1e400' },
    };
    assert.equal((await post(CMS, JSON.stringify(hpa))).status, 201);
  });

  it('invalid UTF-8 is a 400', async () => {
    const body = Buffer.concat([
      Buffer.from('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]);
    assertStatus(await post(PODS, body), { code: 400, reason: 'BadRequest' });
  });

  it('an unsupported Content-Type is a 415', async () => {
    assertStatus(await post(PODS, 'name: x', { 'content-type': 'text/plain' }), {
      code: 415,
      reason: 'UnsupportedMediaType',
      message:
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    });
  });

  it('bodies that are not objects are 400s', async () => {
    for (const body of ['', '[]', 'null', '"pod"', '42']) {
      assertStatus(await post(PODS, body), { code: 400, reason: 'BadRequest' });
    }
  });
});

describe('regressions found by the fuzzer', () => {
  it('a non-string apiVersion or kind is a 400 worded as upstream, even when deeply nested', async () => {
    const deep = `{"apiVersion":${'['.repeat(900)}${']'.repeat(900)},"kind":"Pod"}`;
    assertStatus(await post(PODS, deep), {
      code: 400,
      reason: 'BadRequest',
      message: `the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: json: cannot unmarshal array into Go struct field .apiVersion of type string (${deep.slice(0, 30)} ...)`,
    });
    assertStatus(await post(PODS, '{"apiVersion":"v1","kind":7}'), {
      code: 400,
      reason: 'BadRequest',
      message: /json: cannot unmarshal number into Go struct field \.kind of type string/,
    });
  });

  it('nesting past the limit is a 400 in JSON and YAML; just under it is served', async () => {
    assertStatus(await post(PODS, `{"a":${'['.repeat(1000)}${']'.repeat(1000)}}`), {
      code: 400,
      reason: 'BadRequest',
      message: /exceeded max depth/,
    });
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\nx: ${'['.repeat(3000)}${']'.repeat(3000)}\n`;
    assertStatus(await post(CMS, yaml, { 'content-type': 'application/yaml' }), {
      code: 400,
      reason: 'BadRequest',
      message: /exceeded max depth/,
    });
    // 990 levels inside an unknown field: accepted (Warn) and the field dropped.
    const body = `{"metadata":{"name":"deep-ok"},"x":${'['.repeat(990)}${']'.repeat(990)}}`;
    const r = await post(CMS, body);
    assert.equal(r.status, 201, r.text.slice(0, 200));
    assert.equal((JSON.parse(r.text) as Record<string, unknown>).x, undefined);
    // A review echoes its body: wrong or deep types must be a 400, not a stack overflow.
    const review = `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":${'['.repeat(990)}${']'.repeat(990)}}}`;
    assertStatus(await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review), {
      code: 400,
      reason: 'BadRequest',
      message:
        /cannot be handled as a SelfSubjectAccessReview: json: cannot unmarshal array into Go struct field SelfSubjectAccessReviewSpec\.spec\.resourceAttributes/,
    });
  });

  it('a null list item decodes to the zero value (422, not a crash)', async () => {
    const r = await post(CMS, JSON.stringify({ metadata: { name: 'nullfin', finalizers: [null] } }));
    assertStatus(r, { code: 422, reason: 'Invalid', message: /metadata\.finalizers: Invalid value: ""/ });
    const p = pod('nullarg');
    (p.spec as { containers: Array<Record<string, unknown>> }).containers[0]!.args = [null, 'x'];
    const ok = await post(PODS, JSON.stringify(p));
    assert.equal(ok.status, 201, ok.text.slice(0, 300));
    const spec = (JSON.parse(ok.text) as { spec: { containers: Array<{ args: unknown[] }> } }).spec;
    assert.deepEqual(spec.containers[0]!.args, ['', 'x']);
  });

  it('int64 query parameters are parsed as upstream: garbage and overflow are 400s', async () => {
    assertStatus(await c.request({ path: `${PODS}?limit=abc` }), {
      code: 400,
      reason: 'BadRequest',
      message: 'strconv.ParseInt: parsing "abc": invalid syntax',
    });
    assertStatus(await c.request({ path: `${PODS}?limit=99999999999999999999` }), {
      code: 400,
      reason: 'BadRequest',
      message: 'strconv.ParseInt: parsing "99999999999999999999": value out of range',
    });
    assert.equal((await c.request({ path: `${PODS}?limit=9223372036854775807` })).status, 200);
    assertStatus(await c.request({ path: `${PODS}?watch=1&timeoutSeconds=x` }), {
      code: 400,
      reason: 'BadRequest',
      message: 'strconv.ParseInt: parsing "x": invalid syntax',
    });
  });

  // Upstream has no PUT/PATCH route on a collection and no POST route on a named object.
  it('a method with no route is 405', async () => {
    for (const [method, path] of [
      ['PUT', PODS],
      ['PATCH', PODS],
      ['POST', `${PODS}/twice`],
    ] as const) {
      assertStatus(await c.request({ method, path, headers: JSON_CT, body: '{}' }), {
        code: 405,
        reason: 'MethodNotAllowed',
        message: 'the server does not allow this method on the requested resource',
      });
    }
  });

  // A continue token whose storage part is malformed is the client's error: 400 as upstream.
  it('a malformed continue token is 400', async () => {
    const tok = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, s: 'x' })).toString('base64url');
    assertStatus(await c.request({ path: `${PODS}?limit=1&continue=${tok}` }), {
      code: 400,
      reason: 'BadRequest',
      message: /^invalid continue token/,
    });
  });
});

describe('field validation', () => {
  it('strict rejects an unknown field with upstream wording', async () => {
    const d = deployment('strict');
    (d.spec as Record<string, unknown>).foo = 1;
    assertStatus(await post(`${DEPLOYS}?fieldValidation=Strict`, JSON.stringify(d)), {
      code: 400,
      reason: 'BadRequest',
      // upstream's create handler reports strict problems through transformDecodeError
      message:
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"',
    });
  });

  it('warn creates the object and answers a Warning header', async () => {
    const d = deployment('warned');
    (d.spec as Record<string, unknown>).foo = 1;
    const r = await post(`${DEPLOYS}?fieldValidation=Warn`, JSON.stringify(d));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.warning, '299 - "unknown field \\"spec.foo\\""');
    const got = await c.json('GET', `${DEPLOYS}/warned`);
    assert.equal((got.obj.spec as Record<string, unknown>).foo, undefined, 'unknown fields are dropped');
  });

  it('an unknown fieldValidation value is a 400', async () => {
    assertStatus(await post(`${DEPLOYS}?fieldValidation=Loose`, JSON.stringify(deployment('fv'))), {
      code: 400,
      reason: 'BadRequest',
      message: 'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "Loose"',
    });
  });
});

describe('invalid objects and conflicts', () => {
  it('a pod without containers is 422 Invalid with causes', async () => {
    const p = pod('empty');
    (p.spec as Record<string, unknown>).containers = [];
    const s = assertStatus(await post(PODS, JSON.stringify(p)), {
      code: 422,
      reason: 'Invalid',
      message: 'Pod "empty" is invalid: spec.containers: Required value',
    });
    // An empty group is omitted on the wire (omitempty), as upstream serialises it.
    assert.deepEqual(s.details, {
      name: 'empty',
      kind: 'Pod',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }],
    });
  });

  it('a deployment whose selector misses its template labels is 422 Invalid', async () => {
    const d = deployment('mismatch');
    (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = {
      app: 'other',
    };
    const s = assertStatus(await post(DEPLOYS, JSON.stringify(d)), {
      code: 422,
      reason: 'Invalid',
      message:
        'Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    });
    const details = s.details as { causes: Array<{ field: string; reason: string }> };
    assert.deepEqual(
      details.causes.map((x) => [x.reason, x.field]),
      [['FieldValueInvalid', 'spec.template.metadata.labels']],
    );
  });

  it('create of an existing name is 409 AlreadyExists', async () => {
    assert.equal((await post(PODS, JSON.stringify(pod('twice')))).status, 201);
    const s = assertStatus(await post(PODS, JSON.stringify(pod('twice'))), {
      code: 409,
      reason: 'AlreadyExists',
      message: 'pods "twice" already exists',
    });
    assert.deepEqual(s.details, { name: 'twice', kind: 'pods' });
  });

  it('a PUT with a stale resourceVersion is 409 Conflict', async () => {
    const created = await c.json('POST', CMS, { metadata: { name: 'stale' }, data: { a: '1' } });
    assert.equal(created.status, 201);
    const rv = (created.obj.metadata as { resourceVersion: string }).resourceVersion;
    const upd = await c.json('PUT', `${CMS}/stale`, {
      metadata: { name: 'stale', resourceVersion: rv },
      data: { a: '2' },
    });
    assert.equal(upd.status, 200);
    const r = await c.request({
      method: 'PUT',
      path: `${CMS}/stale`,
      headers: JSON_CT,
      body: JSON.stringify({ metadata: { name: 'stale', resourceVersion: rv }, data: { a: '3' } }),
    });
    assertStatus(r, {
      code: 409,
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('resourceVersion on create is the intentional 500 upstream answers', async () => {
    assertStatus(await post(PODS, JSON.stringify(pod('with-rv', { resourceVersion: '5' }))), {
      code: 500,
      reason: 'InternalError',
      message: 'Internal error occurred: resourceVersion should not be set on objects to be created',
    });
  });
});

describe('addressing', () => {
  it('a missing object is 404 NotFound', async () => {
    assertStatus(await c.request({ path: `${PODS}/nope` }), {
      code: 404,
      reason: 'NotFound',
      message: 'pods "nope" not found',
    });
    assertStatus(await c.request({ path: '/apis/apps/v1/namespaces/default/deployments/nope' }), {
      code: 404,
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
    });
  });

  it('unknown resources and groups are 404', async () => {
    for (const path of [
      '/api/v1/namespaces/default/foos',
      '/apis/foo.example/v1/bars',
      '/apis/foo.example/v1/namespaces/default/bars/x',
      '/api/v2/pods',
      '/api/v1/namespaces/default/pods/x/nosuchsub',
    ]) {
      assertStatus(await c.request({ path }), {
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });
    }
  });

  it('a verb the resource does not serve is 405', async () => {
    const cases: Array<[string, string]> = [
      ['GET', '/apis/authentication.k8s.io/v1/tokenreviews'],
      ['DELETE', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'],
      ['PUT', '/api/v1/componentstatuses/etcd-0'],
    ];
    for (const [method, path] of cases) {
      assertStatus(await c.request({ method, path, headers: JSON_CT, body: '{}' }), {
        code: 405,
        reason: 'MethodNotAllowed',
        message: 'the server does not allow this method on the requested resource',
      });
    }
  });

  it('a protobuf-only Accept is 406', async () => {
    for (const path of [PODS, `${PODS}/twice`]) {
      assertStatus(await c.request({ path, headers: { accept: 'application/vnd.kubernetes.protobuf' } }), {
        code: 406,
        reason: 'NotAcceptable',
      });
    }
  });
});

describe('list and watch options', () => {
  it('an unparseable labelSelector is 400', async () => {
    for (const sel of ['a in (b', '!!', 'a=(b)']) {
      const r = await c.request({ path: `${PODS}?labelSelector=${encodeURIComponent(sel)}` });
      assertStatus(r, { code: 400, reason: 'BadRequest', message: /^unable to parse requirement: / });
    }
  });

  it('an unsupported fieldSelector is 400 on list and on watch', async () => {
    for (const q of ['', '&watch=true']) {
      const r = await c.request({ path: `${PODS}?fieldSelector=spec.foo%3Dx${q}` });
      assertStatus(r, { code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' });
    }
  });

  it('resourceVersionMatch misuse is 422 on ListOptions.meta.k8s.io', async () => {
    const cases: Array<[string, string]> = [
      [
        'resourceVersionMatch=Exact',
        'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      ],
      [
        'resourceVersion=1&resourceVersionMatch=Foo',
        'resourceVersionMatch: Unsupported value: "Foo": supported values: "Exact", "NotOlderThan", ""',
      ],
      [
        'resourceVersion=0&resourceVersionMatch=Exact',
        'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      ],
      [
        'watch=true&resourceVersionMatch=NotOlderThan',
        'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      ],
    ];
    for (const [q, msg] of cases) {
      const s = assertStatus(await c.request({ path: `${PODS}?${q}` }), {
        code: 422,
        reason: 'Invalid',
        message: `ListOptions.meta.k8s.io "" is invalid: ${msg}`,
      });
      const d = s.details as { group: string; kind: string };
      assert.equal(d.group, 'meta.k8s.io');
      assert.equal(d.kind, 'ListOptions');
    }
  });

  it('a garbage resourceVersion is 400', async () => {
    assertStatus(await c.request({ path: `${PODS}?resourceVersion=abc` }), {
      code: 400,
      reason: 'BadRequest',
      message: 'invalid resource version: "abc"',
    });
  });

  it('a watch from a compacted resourceVersion ends with an ERROR event: 410 Expired', async () => {
    // PodTemplates: nothing in the server lists or watches them (Secrets, say, are cached
    // from the start for bootstrap tokens), so an old revision is served from storage
    // history, which compaction removed.
    const TEMPLATES = '/api/v1/namespaces/default/podtemplates';
    const template = { containers: [{ name: 'c', image: 'busybox' }] };
    const first = await c.json('POST', TEMPLATES, {
      metadata: { name: 'old' },
      template: { spec: template },
    });
    assert.equal(first.status, 201);
    const oldRV = (first.obj.metadata as { resourceVersion: string }).resourceVersion;
    for (let i = 0; i < 3; i++) {
      const r = await c.json('POST', TEMPLATES, {
        metadata: { name: `t${i}` },
        template: { spec: template },
      });
      assert.equal(r.status, 201);
    }
    const cur = await api.server.storage.currentRevision();
    await api.server.storage.compact(cur);
    const ac = new AbortController();
    let text = '';
    const done = c.stream(
      `${TEMPLATES}?watch=true&resourceVersion=${oldRV}`,
      (chunk) => {
        text += chunk;
      },
      ac.signal,
    );
    const timer = setTimeout(() => ac.abort(), 5000);
    const { status } = await done;
    clearTimeout(timer);
    assert.equal(status, 200);
    const events = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; object: Record<string, unknown> });
    assert.equal(events.length, 1, text);
    assert.equal(events[0]!.type, 'ERROR');
    assert.deepEqual(events[0]!.object, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: events[0]!.object.message,
      reason: 'Expired',
      code: 410,
    });
  });
});
