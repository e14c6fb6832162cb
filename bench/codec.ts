// Codec benchmark: the per-write CPU cost of turning a request body into a defaulted, validated
// Pod, on one core. A realistic ~5 KB Pod (several containers with env, probes, volume mounts,
// resources; volumes; labels and annotations) goes through
//   JSON:     decodeJSONWithDuplicates → validateSchema → applyDefaults → validateObject
//   protobuf: decodeProtobufDroppingZeros → validateSchema → applyDefaults → validateObject
// (the protobuf body is encoded once up front; decodeProtobufDroppingZeros does what
// decodeProtobuf + dropProtobufZeros do, in one pass). Each pass starts from the bytes, as a request
// does. Prints a table, then (last line) one JSON object:
//   {"json":{"podsPerSec":N},"protobuf":{"podsPerSec":N}}
// Goal: ≥ 20,000 pods/s each.
// Usage: node --import tsx bench/codec.ts [--quick]

import { decodeJSONWithDuplicates } from '../src/api/codec/json.js';
import { decodeProtobufDroppingZeros, encodeProtobuf } from '../src/api/codec/protobuf.js';
import { applyDefaults } from '../src/api/defaults/index.js';
import { definitionForGVK } from '../src/api/schema.js';
import { validateObject } from '../src/api/validation/index.js';
import { validateSchema } from '../src/api/validation/schema-validate.js';

const quick = process.argv.includes('--quick');
const PHASE_MS = quick ? 500 : 3000;
const GVK = { group: '', version: 'v1', kind: 'Pod' };

function container(i: number): Record<string, unknown> {
  return {
    name: `app-${i}`,
    image: `registry.example.com/team/service-${i}:v1.${i}.3`,
    command: ['/bin/server'],
    args: ['--port=8080', `--shard=${i}`, '--log-level=info'],
    ports: [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'REGION', value: 'eu-west-1' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'FEATURES', valueFrom: { configMapKeyRef: { name: 'features', key: 'list', optional: true } } },
    ],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app', readOnly: true },
      { name: 'data', mountPath: '/var/lib/app' },
    ],
    livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 10, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, failureThreshold: 3 },
    securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false },
  };
}

/** A realistic Pod of about 5 KB of JSON. */
function realisticPod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'checkout-7d9f8b6c5d-x2x9q',
      namespace: 'shop',
      labels: {
        app: 'checkout',
        'app.kubernetes.io/name': 'checkout',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/version': '1.4.2',
        'pod-template-hash': '7d9f8b6c5d',
        tier: 'backend',
      },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        'kubectl.kubernetes.io/default-container': 'app-0',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'checkout-7d9f8b6c5d',
          uid: '4f6c1c1e-3c1a-4f7e-9a55-0b8b2a0b2b8d',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: 'checkout',
      initContainers: [{ name: 'migrate', image: 'registry.example.com/team/migrate:v3', args: ['up'] }],
      containers: [container(0), container(1), container(2)],
      volumes: [
        {
          name: 'config',
          configMap: { name: 'checkout-config', items: [{ key: 'app.yaml', path: 'app.yaml' }] },
        },
        { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'certs', secret: { secretName: 'checkout-tls', defaultMode: 420 } },
      ],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'shop', effect: 'NoSchedule' }],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchLabels: { app: 'checkout' } },
                topologyKey: 'kubernetes.io/hostname',
              },
            },
          ],
        },
      },
      terminationGracePeriodSeconds: 45,
    },
  };
}

/** Runs `fn` for `ms`; returns calls per second (after a short warm-up). */
function rate(ms: number, fn: () => void): number {
  const warm = performance.now() + Math.min(300, ms / 4);
  while (performance.now() < warm) fn();
  let n = 0;
  const start = performance.now();
  const deadline = start + ms;
  while (performance.now() < deadline) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  return Math.round((n / (performance.now() - start)) * 1000);
}

function main(): void {
  const def = definitionForGVK(GVK);
  if (!def) throw new Error('no schema for v1 Pod');
  const pod = realisticPod();
  const jsonBytes = Buffer.from(JSON.stringify(pod));
  const pbBytes = encodeProtobuf(pod);

  const finish = (obj: Record<string, unknown>): void => {
    validateSchema(obj, def, { mode: 'Strict' });
    applyDefaults(obj, GVK);
    const errs = validateObject(obj, GVK, { namespaced: true });
    if (errs.length > 0) throw new Error(`the benchmark pod is invalid: ${JSON.stringify(errs)}`);
  };
  const viaJSON = (): void => {
    const { value, duplicates } = decodeJSONWithDuplicates(jsonBytes);
    if (duplicates.length > 0) throw new Error('duplicates');
    finish(value as Record<string, unknown>);
  };
  const viaProtobuf = (): void => {
    finish(decodeProtobufDroppingZeros(pbBytes));
  };
  // Both paths must produce the same defaulted object, or the comparison means nothing.
  const a = decodeJSONWithDuplicates(jsonBytes).value as Record<string, unknown>;
  finish(a);
  const b = decodeProtobufDroppingZeros(pbBytes);
  finish(b);
  if (JSON.stringify(sortKeys(a)) !== JSON.stringify(sortKeys(b))) {
    process.stderr.write('warning: the JSON and protobuf paths produce different objects\n');
  }

  const json = rate(PHASE_MS, viaJSON);
  const protobuf = rate(PHASE_MS, viaProtobuf);
  const decodeOnlyJSON = rate(PHASE_MS / 2, () => decodeJSONWithDuplicates(jsonBytes));
  const decodeOnlyPB = rate(PHASE_MS / 2, () => decodeProtobufDroppingZeros(pbBytes));

  const rows: Array<[string, string]> = [
    ['pod JSON size (bytes)', String(jsonBytes.length)],
    ['pod protobuf size (bytes)', String(pbBytes.length)],
    ['JSON: decode+validate+default (pods/s)', String(json)],
    ['protobuf: decode+validate+default (pods/s)', String(protobuf)],
    ['JSON: decode only (pods/s)', String(decodeOnlyJSON)],
    ['protobuf: decode + drop zeros only (pods/s)', String(decodeOnlyPB)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v.padStart(8)}\n`);
  process.stdout.write(
    `${JSON.stringify({ json: { podsPerSec: json }, protobuf: { podsPerSec: protobuf } })}\n`,
  );
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

main();
