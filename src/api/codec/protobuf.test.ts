import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../machinery/status-error.js';
import {
  decodePodProtobuf,
  decodeProtobuf,
  decodeProtobufMessage,
  encodeProtobuf,
  encodeProtobufMessage,
  MAX_PROTO_DEPTH,
} from './protobuf.js';
import {
  formatDuration,
  formatMicroTime,
  formatTime,
  parseDuration,
  parseTime,
} from './protobuf-wellknown.js';
import { ProtoWriter, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf-wire.js';

const POD = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: {
    name: 'p',
    namespace: 'default',
    labels: { app: 'web' },
    creationTimestamp: '2024-01-02T03:04:05Z',
    managedFields: [
      {
        manager: 'kubectl',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2024-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
      },
    ],
  },
  spec: {
    volumes: [{ name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } }],
    containers: [
      {
        name: 'c',
        image: 'nginx',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }],
        resources: { limits: { cpu: '500m', memory: '64Mi' } },
        livenessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 0 },
        readinessProbe: { tcpSocket: { port: 8080 } },
      },
    ],
    activeDeadlineSeconds: -5,
    automountServiceAccountToken: false,
  },
  status: { phase: 'Running', startTime: null },
};

/** Runs fn and returns the StatusError it throws (failing on any other outcome). */
function statusErrorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected StatusError, got ${String(e)}`);
    assert.equal(e.code, 400);
    return e;
  }
  assert.fail('expected an error');
}

/** Wraps a raw message in the k8s envelope for the given apiVersion/kind. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.buf.set([0x6b, 0x38, 0x73, 0x00]);
  w.pos = 4;
  w.tag(1, WIRE_LEN);
  const m = w.beginDelimited();
  w.tag(1, WIRE_LEN);
  w.string(apiVersion);
  w.tag(2, WIRE_LEN);
  w.string(kind);
  w.endDelimited(m);
  w.tag(2, WIRE_LEN);
  w.bytes(raw);
  return w.finish().slice();
}

function bytes(fn: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  fn(w);
  return w.finish().slice();
}

describe('protobuf round trip', () => {
  const cases: { name: string; obj: Record<string, unknown> }[] = [
    { name: 'Pod with inline fields, quantities, IntOrString, FieldsV1, Time', obj: POD },
    {
      name: 'Deployment keeps replicas: 0',
      obj: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: 'd' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { a: 'b' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      },
    },
    {
      name: 'Secret bytes as base64',
      obj: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's' }, data: { k: 'dg==', e: '' } },
    },
    {
      name: 'ControllerRevision RawExtension as JSON',
      obj: {
        kind: 'ControllerRevision',
        apiVersion: 'apps/v1',
        metadata: { name: 'r' },
        data: { spec: { x: [1, 'a'] } },
        revision: 3,
      },
    },
    {
      name: 'SubjectAccessReview extra (ExtraValue list wrapper)',
      obj: {
        kind: 'SubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: {},
        spec: {
          user: 'u',
          groups: ['g1', 'g2'],
          extra: { scopes: ['a', 'b'] },
          resourceAttributes: { verb: 'get', resource: 'pods' },
        },
      },
    },
    {
      name: 'Lease MicroTime',
      obj: {
        kind: 'Lease',
        apiVersion: 'coordination.k8s.io/v1',
        metadata: { name: 'l' },
        spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2024-01-02T03:04:05.123456Z' },
      },
    },
    {
      name: 'meta kind (DeleteOptions) in a group version',
      obj: {
        kind: 'DeleteOptions',
        apiVersion: 'apps/v1',
        gracePeriodSeconds: 0,
        propagationPolicy: 'Foreground',
        dryRun: ['All'],
      },
    },
    {
      name: 'APIResourceList verbs (Verbs list wrapper)',
      obj: {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'v1',
        resources: [
          { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] },
        ],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bytes = encodeProtobuf(c.obj);
      assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
      assert.deepEqual(decodeProtobuf(bytes), c.obj);
    });
  }

  it('puts kind and apiVersion first and omits absent repeated fields', () => {
    const out = decodeProtobuf(
      encodeProtobuf({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' } }),
    );
    assert.deepEqual(Object.keys(out), ['kind', 'apiVersion', 'metadata']);
    assert.equal('data' in out, false);
  });

  it('decodes a Pod through the benchmark hook', () => {
    assert.deepEqual(decodePodProtobuf(encodeProtobuf(POD)), POD);
  });

  it('decodes an embedded protobuf envelope inside a RawExtension (List items)', () => {
    const item = encodeProtobuf({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a' } });
    const list = bytes((w) => {
      w.tag(2, WIRE_LEN);
      const m = w.beginDelimited();
      w.tag(1, WIRE_LEN);
      w.bytes(item);
      w.endDelimited(m);
    });
    assert.deepEqual(decodeProtobuf(envelope('v1', 'List', list)), {
      kind: 'List',
      apiVersion: 'v1',
      items: [{ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a' } }],
    });
  });
});

describe('protobuf wire details', () => {
  it('accepts packed and unpacked repeated varints', () => {
    const unpacked = bytes((w) => {
      for (const p of [80, 443]) {
        w.tag(1, WIRE_VARINT);
        w.int64(p);
      }
    });
    const packed = bytes((w) => {
      w.tag(1, WIRE_LEN);
      const m = w.beginDelimited();
      w.int64(80);
      w.int64(443);
      w.endDelimited(m);
    });
    for (const b of [unpacked, packed]) {
      assert.deepEqual(decodeProtobufMessage(b, 'k8s.io.api.core.v1.PodPortForwardOptions'), {
        ports: [80, 443],
      });
    }
  });

  it('skips unknown fields of every wire type', () => {
    const b = bytes((w) => {
      w.tag(99, WIRE_VARINT);
      w.int64(-1);
      w.tag(98, WIRE_LEN);
      w.string('zz');
      w.tag(97, WIRE_FIXED32);
      w.float(1);
      w.tag(96, WIRE_FIXED64);
      w.double(1);
      w.tag(1, WIRE_LEN);
      w.string('n');
    });
    assert.deepEqual(decodeProtobufMessage(b, 'k8s.io.api.core.v1.LocalObjectReference'), { name: 'n' });
  });

  it('reads negative int32 written as 10-byte varints', () => {
    const b = encodeProtobufMessage({ activeDeadlineSeconds: -5 }, 'k8s.io.api.core.v1.PodSpec');
    assert.deepEqual(decodeProtobufMessage(b, 'k8s.io.api.core.v1.PodSpec'), { activeDeadlineSeconds: -5 });
  });

  it('keeps int64 values up to 2^53-1 exact', () => {
    const v = Number.MAX_SAFE_INTEGER;
    const b = encodeProtobufMessage({ generation: v }, 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.deepEqual(decodeProtobufMessage(b, 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta'), {
      generation: v,
    });
  });
});

describe('protobuf robustness', () => {
  const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta';
  const cases: {
    name: string;
    input: () => Uint8Array;
    decode?: (b: Uint8Array) => unknown;
    message: RegExp;
  }[] = [
    { name: 'missing prefix', input: () => new Uint8Array([1, 2, 3]), message: /protobuf prefix/ },
    { name: 'empty body', input: () => new Uint8Array(0), message: /protobuf prefix/ },
    {
      name: 'truncated varint',
      input: () => envelope('v1', 'ConfigMap', new Uint8Array([0x08 | 0x20, 0xff])),
      message: /truncated varint/,
    },
    {
      name: 'length past the end',
      input: () => envelope('v1', 'ConfigMap', new Uint8Array([0x0a, 0x7f, 0x01])),
      message: /runs past the end/,
    },
    {
      name: 'envelope length past the end',
      input: () => new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x12, 0x50, 0x00]),
      message: /runs past the end/,
    },
    {
      name: 'wrong wire type for a field',
      input: () =>
        envelope(
          'v1',
          'ConfigMap',
          bytes((w) => {
            w.tag(1, WIRE_VARINT);
            w.int64(3);
          }),
        ),
      message: /wrong wireType = 0 for field metadata of k8s\.io\.api\.core\.v1\.ConfigMap/,
    },
    {
      name: 'unknown kind',
      input: () => envelope('v1', 'Foo', new Uint8Array(0)),
      message: /^no kind "Foo" is registered for version "v1" in scheme/,
    },
    {
      name: 'unknown group version',
      input: () => envelope('nope.example.com/v1', 'Pod', new Uint8Array(0)),
      message: /no kind "Pod" is registered for version "nope\.example\.com\/v1"/,
    },
    {
      name: 'missing kind',
      input: () => envelope('v1', '', new Uint8Array(0)),
      message: /'Kind' is missing/,
    },
    {
      name: 'invalid UTF-8 in a string field',
      input: () => new Uint8Array([0x0a, 0x02, 0xc3, 0x28]),
      decode: (b) => decodeProtobufMessage(b, meta),
      message: /invalid UTF-8/,
    },
    {
      name: 'int64 beyond 2^53',
      input: () =>
        bytes((w) => {
          w.tag(7, WIRE_VARINT);
          w.int64(2 ** 60);
        }),
      decode: (b) => decodeProtobufMessage(b, meta),
      message: /1152921504606846976 is outside the range/,
    },
    {
      name: 'negative int64 beyond -2^53',
      input: () =>
        bytes((w) => {
          w.tag(7, WIRE_VARINT);
          w.int64(-(2 ** 60));
        }),
      decode: (b) => decodeProtobufMessage(b, meta),
      message: /-1152921504606846976 is outside the range/,
    },
    {
      name: 'varint longer than 10 bytes',
      input: () => new Uint8Array([0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      decode: (b) => decodeProtobufMessage(b, meta),
      message: /integer overflow/,
    },
    {
      name: 'field number 0',
      input: () => new Uint8Array([0x00, 0x01]),
      decode: (b) => decodeProtobufMessage(b, meta),
      message: /illegal tag 0/,
    },
    {
      name: 'illegal wire type 7',
      input: () => new Uint8Array([0xff, 0x07]),
      decode: (b) => decodeProtobufMessage(b, meta),
      message: /illegal wireType 7/,
    },
    {
      name: 'gzip content encoding',
      input: () => {
        const e = envelope('v1', 'ConfigMap', new Uint8Array(0));
        const w = new ProtoWriter();
        w.buf.set(e);
        w.pos = e.length;
        w.tag(3, WIRE_LEN);
        w.string('gzip');
        return w.finish().slice();
      },
      message: /unsupported content encoding "gzip"/,
    },
    {
      name: 'nesting deeper than the limit',
      input: () => {
        let inner = envelope('v1', 'ConfigMap', new Uint8Array(0));
        for (let i = 0; i < MAX_PROTO_DEPTH + 5; i++) {
          const item = inner;
          inner = envelope(
            'v1',
            'List',
            bytes((w) => {
              w.tag(2, WIRE_LEN);
              const m = w.beginDelimited();
              w.tag(1, WIRE_LEN);
              w.bytes(item);
              w.endDelimited(m);
            }),
          );
        }
        return inner;
      },
      message: /max nesting depth/,
    },
    {
      name: 'invalid JSON inside a RawExtension',
      input: () =>
        envelope(
          'apps/v1',
          'ControllerRevision',
          bytes((w) => {
            w.tag(2, WIRE_LEN);
            const m = w.beginDelimited();
            w.tag(1, WIRE_LEN);
            w.string('{x');
            w.endDelimited(m);
          }),
        ),
      message: /invalid character 'x' looking for beginning of object key string/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const input = c.input();
      const err = statusErrorOf(() => (c.decode ?? decodeProtobuf)(input));
      assert.match(err.message, c.message);
    });
  }

  it('never throws anything but a 400 StatusError on corrupted bodies', () => {
    const good = encodeProtobuf(POD);
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const b = good.slice(0, 4 + rand(good.length - 3));
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) b[4 + rand(b.length - 4)] = rand(256);
      try {
        decodeProtobuf(b);
      } catch (e) {
        assert.ok(e instanceof StatusError && e.code === 400, `iteration ${i}: ${String(e)}`);
      }
    }
  });

  it('rejects objects of the wrong shape on encode', () => {
    const bad = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 5 } };
    assert.match(
      statusErrorOf(() => encodeProtobuf(bad)).message,
      /metadata\.name as protobuf: expected string, got number/,
    );
    const bytesField = { kind: 'Secret', apiVersion: 'v1', data: { k: '!!' } };
    assert.match(statusErrorOf(() => encodeProtobuf(bytesField)).message, /illegal base64/);
  });
});

describe('well-known types', () => {
  it('formats Time and MicroTime', () => {
    assert.equal(formatTime(1704164645), '2024-01-02T03:04:05Z');
    assert.equal(formatMicroTime(1704164645, 123456789), '2024-01-02T03:04:05.123456Z');
    assert.equal(formatTime(0), '1970-01-01T00:00:00Z');
  });

  it('parses RFC 3339 with offsets and fractions', () => {
    assert.deepEqual(parseTime('2024-01-02T05:04:05+02:00'), { seconds: 1704164645, nanos: 0 });
    assert.deepEqual(parseTime('2024-01-02T03:04:05.5Z'), { seconds: 1704164645, nanos: 500000000 });
    assert.throws(() => parseTime('2024-02-30T00:00:00Z'), StatusError);
    assert.throws(() => parseTime('yesterday'), StatusError);
  });

  const durations: [number, string][] = [
    [0, '0s'],
    [3600e9, '1h0m0s'],
    [1.5e9, '1.5s'],
    [300e6, '300ms'],
    [1500, '1.5µs'],
    [42, '42ns'],
    [-90e9, '-1m30s'],
    [(26 * 3600 + 3 * 60 + 4) * 1e9 + 5e6, '26h3m4.005s'],
  ];
  for (const [ns, s] of durations) {
    it(`duration ${s}`, () => {
      assert.equal(formatDuration(ns), s);
      assert.equal(parseDuration(s), ns);
    });
  }

  it('rejects malformed durations as Go does', () => {
    assert.match(statusErrorOf(() => parseDuration('1')).message, /missing unit/);
    assert.match(statusErrorOf(() => parseDuration('1x')).message, /unknown unit "x"/);
    assert.match(statusErrorOf(() => parseDuration('')).message, /invalid duration/);
  });
});
