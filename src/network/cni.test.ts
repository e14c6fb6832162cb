import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import {
  CniError,
  CniErrorCode,
  CniNetwork,
  type CniNetworkConfigList,
  type CniRuntimeConf,
  cachedAttachments,
  formatCniArgs,
  parseCniResult,
  pluginStdinConfig,
  resultPodIPs,
} from './cni.js';

// Fake plugins are tiny shell scripts: each call appends one JSON line (environment +
// stdin) to a log and prints what a real plugin would.
const dir = mkdtempSync(join(tmpdir(), 'kts-test-cni-'));
const bin = join(dir, 'bin');
const log = join(dir, 'calls.log');
const RESULT_ONE =
  '{"cniVersion":"1.0.0","interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"address":"10.42.1.5/24","gateway":"10.42.1.1","interface":1}]}';

function plugin(name: string, body: string): void {
  const script = `#!/bin/sh
in=$(cat)
[ -z "$in" ] && in=null
printf '{"plugin":"${name}","cmd":"%s","id":"%s","netns":"%s","ifname":"%s","args":"%s","path":"%s","stdin":%s}\\n' \\
  "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$CNI_PATH" "$in" >> ${log}
${body}
`;
  writeFileSync(join(bin, name), script);
  chmodSync(join(bin, name), 0o755);
}

interface Call {
  plugin: string;
  cmd: string;
  id: string;
  netns: string;
  ifname: string;
  args: string;
  path: string;
  stdin: Record<string, unknown> | null;
}

function calls(): Call[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Call);
}

const rt: CniRuntimeConf = {
  containerId: 'abc',
  netns: '/run/netns/x',
  ifName: 'eth0',
  args: { K8S_POD_NAMESPACE: 'ns', K8S_POD_NAME: 'p' },
  capabilityArgs: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }] },
};

function list(...plugins: string[]): CniNetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: 'testnet',
    plugins: plugins.map((type) =>
      type === 'two' ? { type, capabilities: { portMappings: true, bandwidth: true } } : { type, extra: 1 },
    ),
  };
}

describe('cni', () => {
  mkdirSync(bin);
  plugin(
    'one',
    `case "$CNI_COMMAND" in ADD) echo '${RESULT_ONE}';; VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}';; esac`,
  );
  plugin('two', `if [ "$CNI_COMMAND" = ADD ]; then echo "$in" | sed 's/.*"prevResult"://; s/}$//'; fi`);
  plugin('fail', `echo '{"cniVersion":"1.0.0","code":7,"msg":"bad config","details":"field x"}'; exit 1`);
  plugin('crash', `echo boom >&2; exit 2`);
  const cacheDir = join(dir, 'cache');

  beforeEach(() => rmSync(log, { force: true }));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ADD runs plugins in order with the spec environment, capabilities and prevResult', async () => {
    const net = new CniNetwork(list('one', 'two'), { binDirs: [join(dir, 'nothing'), bin], cacheDir });
    const result = await net.add(rt);
    assert.deepEqual(result, parseCniResult(RESULT_ONE));
    assert.deepEqual(resultPodIPs(result), ['10.42.1.5']);
    const [c1, c2] = calls();
    assert.deepEqual(
      [c1?.plugin, c1?.cmd, c1?.id, c1?.netns, c1?.ifname, c1?.args, c1?.path],
      [
        'one',
        'ADD',
        'abc',
        '/run/netns/x',
        'eth0',
        'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p',
        `${join(dir, 'nothing')}:${bin}`,
      ],
    );
    // The first plugin declares no capability and has no predecessor.
    assert.deepEqual(c1?.stdin, { type: 'one', extra: 1, name: 'testnet', cniVersion: '1.0.0' });
    assert.deepEqual(c2?.stdin?.runtimeConfig, { portMappings: rt.capabilityArgs?.portMappings });
    assert.deepEqual(c2?.stdin?.prevResult, JSON.parse(RESULT_ONE));
    assert.deepEqual(net.cachedResult(rt), result);
    assert.deepEqual(cachedAttachments(cacheDir, 'testnet'), [rt]);
  });

  it('CHECK runs in order against the cached result; DEL in reverse, then forgets it', async () => {
    const net = new CniNetwork(list('one', 'two'), { binDirs: [bin], cacheDir });
    await net.check({ containerId: 'abc', netns: '/run/netns/x', ifName: 'eth0' });
    await net.del({ containerId: 'abc', netns: '/run/netns/x', ifName: 'eth0' });
    const got = calls().map((c) => [c.plugin, c.cmd, c.stdin?.prevResult !== undefined]);
    assert.deepEqual(got, [
      ['one', 'CHECK', true],
      ['two', 'CHECK', true],
      ['two', 'DEL', true],
      ['one', 'DEL', true],
    ]);
    // DEL without capability arguments still hands portmap the cached ones.
    assert.deepEqual(calls()[2]?.stdin?.runtimeConfig, { portMappings: rt.capabilityArgs?.portMappings });
    assert.equal(net.cachedResult(rt), undefined);
    assert.deepEqual(cachedAttachments(cacheDir, 'testnet'), []);
    await assert.rejects(
      net.check(rt),
      (e: unknown) => e instanceof CniError && e.code === CniErrorCode.UnknownContainer,
    );
    await new CniNetwork({ ...list('one'), disableCheck: true }, { binDirs: [bin], cacheDir }).check(rt);
  });

  it('turns plugin failures into CniError with the plugin’s code and message', async () => {
    const cases: [string, number, RegExp][] = [
      ['fail', 7, /^bad config$/],
      ['crash', CniErrorCode.Internal, /netplugin failed: "boom"/],
      ['absent', CniErrorCode.Internal, /failed to find plugin "absent" in path/],
    ];
    for (const [type, code, msg] of cases) {
      const net = new CniNetwork(list(type), { binDirs: [bin] });
      await assert.rejects(net.add(rt), (e: unknown) => {
        assert.ok(e instanceof CniError);
        assert.equal(e.code, code);
        assert.match(e.msg, msg);
        assert.equal(e.plugin, type);
        assert.equal(e.command, 'ADD');
        return true;
      });
    }
    const err = await new CniNetwork(list('fail'), { binDirs: [bin] }).add(rt).catch((e: unknown) => e);
    assert.ok(err instanceof CniError);
    assert.equal(err.details, 'field x');
    assert.equal(err.message, 'plugin type="fail" failed (add): bad config: field x');
  });

  it('undoes a half-done ADD with DEL of the whole list', async () => {
    const net = new CniNetwork(list('one', 'fail'), { binDirs: [bin], cacheDir });
    const other = { ...rt, containerId: 'half' };
    await assert.rejects(net.add(other), CniError);
    assert.deepEqual(
      calls().map((c) => [c.plugin, c.cmd]),
      [
        ['one', 'ADD'],
        ['fail', 'ADD'],
        ['fail', 'DEL'],
        ['one', 'DEL'],
      ],
    );
    assert.equal(net.cachedResult(other), undefined);
  });

  it('asks each plugin its VERSION', async () => {
    const net = new CniNetwork(list('one', 'one'), { binDirs: [bin] });
    assert.deepEqual(await net.version(), {
      one: { cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0'] },
    });
    const [c] = calls();
    assert.deepEqual([c?.cmd, c?.id, c?.stdin], ['VERSION', '', { cniVersion: '1.0.0' }]);
  });

  it('parses results of every shape', () => {
    assert.deepEqual(
      parseCniResult('{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.2/16","gateway":"10.1.0.1"}}'),
      {
        cniVersion: '0.2.0',
        ips: [{ address: '10.1.0.2/16', gateway: '10.1.0.1' }],
      },
    );
    const r = parseCniResult(
      '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.1/24","interface":0}],"interfaces":[{"name":"host"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.9.0.254"}],"dns":{"nameservers":["10.43.0.10"]}}',
    );
    assert.deepEqual(resultPodIPs(r), []);
    assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: '10.9.0.254' }]);
    assert.deepEqual(r.dns, { nameservers: ['10.43.0.10'] });
    assert.throws(
      () => parseCniResult('nope'),
      (e: unknown) => e instanceof CniError && e.code === CniErrorCode.DecodingFailure,
    );
  });

  it('builds stdin configs and CNI_ARGS as libcni does', () => {
    assert.equal(formatCniArgs(undefined), '');
    assert.equal(formatCniArgs({ A: '1' }), 'IgnoreUnknown=1;A=1');
    const conf = pluginStdinConfig(
      { name: 'n', cniVersion: '1.0.0' },
      { type: 'portmap', capabilities: { portMappings: true, bandwidth: false } },
      { portMappings: [], bandwidth: { ingressRate: 1 } },
      undefined,
    );
    assert.deepEqual(conf, {
      type: 'portmap',
      capabilities: { portMappings: true, bandwidth: false },
      name: 'n',
      cniVersion: '1.0.0',
      runtimeConfig: { portMappings: [] },
    });
  });
});
