import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod } from '../api/generated/types/core-v1.js';
import { containerEnv, EnvError, expandCommand, expandVars } from './env.js';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' } },
  spec: { nodeName: 'n1', serviceAccountName: 'sa', containers: [] },
};
const sources = {
  configMap: async (_ns: string, name: string) =>
    name === 'cm' ? { data: { a: '1', 'bad key': 'x' } } : undefined,
  secret: async (_ns: string, name: string) =>
    name === 'sec' ? { data: { pw: Buffer.from('s3').toString('base64') } } : undefined,
};
const ctx = { pod, podIP: '10.42.0.5', podIPs: ['10.42.0.5'], hostIP: '192.0.2.1' };

describe('expandVars', () => {
  const lookup = (n: string): string | undefined => ({ A: 'x', B: 'y' })[n];
  for (const [input, want] of [
    ['$(A)', 'x'],
    ['pre-$(A)-$(B)', 'pre-x-y'],
    ['$$(A)', '$(A)'],
    ['$(MISSING)', '$(MISSING)'],
    ['$(A', '$(A'],
    ['a$b', 'a$b'],
    ['$', '$'],
  ] as const) {
    it(`${input} → ${want}`, () => assert.equal(expandVars(input, lookup), want));
  }
});

describe('containerEnv', () => {
  it('resolves envFrom, valueFrom and expansion in order', async () => {
    const c: Container = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'pw' } } },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MIX', value: '$(NAME)-$(CM_a)' },
      ],
      command: ['echo', '$(MIX)'],
    };
    const env = await containerEnv(c, ctx, sources);
    assert.deepEqual(env, [
      { key: 'CM_a', value: '1' },
      { key: 'PW', value: 's3' },
      { key: 'NAME', value: 'p' },
      { key: 'APP', value: 'web' },
      { key: 'IP', value: '10.42.0.5' },
      { key: 'MIX', value: 'p-1' },
    ]);
    assert.deepEqual(expandCommand(c, env), { command: ['echo', 'p-1'] });
  });

  it('fails with upstream messages for missing objects and keys, unless optional', async () => {
    const missing: Container = {
      name: 'c',
      env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }],
    };
    await assert.rejects(
      containerEnv(missing, ctx, sources),
      (e: unknown) => e instanceof EnvError && e.message === 'configmap "nope" not found',
    );
    const key: Container = {
      name: 'c',
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }],
    };
    await assert.rejects(containerEnv(key, ctx, sources), /couldn't find key k in Secret ns\/sec/);
    const optional: Container = {
      name: 'c',
      env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }],
    };
    assert.deepEqual(await containerEnv(optional, ctx, sources), []);
  });
});
