import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../api/generated/types/core-v1.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { NODES } from '../client/resources.js';
import { RestClient } from '../client/rest-client.js';
import { startTestApiServer, type TestApiServer } from '../../test/helpers/apiserver.js';
import { runHollowNodes } from './hollow-nodes.js';

let srv: TestApiServer;
let client: RestClient;

before(async () => {
  srv = await startTestApiServer('memory://');
  client = new RestClient({ ...loadKubeconfig(srv.server.kubeconfigPath), qps: 0 });
});
after(async () => {
  client.close();
  await srv.stop();
});

describe('kts hollow-nodes', () => {
  const bad: Array<{ name: string; args: string[]; code: number }> = [
    { name: 'no flags', args: [], code: 2 },
    { name: 'no count', args: ['--kubeconfig', '/nonexistent'], code: 2 },
    { name: 'fractional count', args: ['--kubeconfig', '/x', '--count', '1.5'], code: 2 },
    { name: 'unknown flag', args: ['--kubeconfig', '/x', '--count', '1', '--bogus'], code: 2 },
    { name: 'help', args: ['--help'], code: 0 },
  ];
  for (const c of bad) {
    it(`exits ${c.code} for ${c.name}`, async () => {
      assert.equal(await runHollowNodes(c.args, Promise.resolve()), c.code);
    });
  }

  it('registers the requested nodes with the flags given, and stops', async () => {
    let stop: () => void = () => {};
    const stopped = new Promise<void>((r) => {
      stop = r;
    });
    const run = runHollowNodes(
      [
        '--kubeconfig',
        srv.server.kubeconfigPath,
        '--count',
        '2',
        '--name-prefix',
        'cli',
        '--cpu',
        '2',
        '--memory',
        '4Gi',
        '--pods',
        '30',
        '--zones',
        '0',
        '--delete-nodes-on-exit',
      ],
      stopped,
    );
    let nodes: Node[] = [];
    for (let i = 0; i < 200 && nodes.length < 2; i++) {
      nodes = (await client.resource(NODES).list('')).items.filter((n) =>
        n.metadata?.name?.startsWith('cli-'),
      );
      if (nodes.length < 2) await new Promise((r) => setTimeout(r, 25));
    }
    assert.deepEqual(
      nodes.map((n) => n.metadata?.name),
      ['cli-0', 'cli-1'],
    );
    assert.deepEqual(nodes[0]?.status?.capacity, {
      cpu: '2',
      memory: '4Gi',
      pods: '30',
      'ephemeral-storage': '100Gi',
    });
    assert.equal(nodes[0]?.metadata?.labels?.['topology.kubernetes.io/zone'], undefined);
    stop();
    assert.equal(await run, 0);
    const left = (await client.resource(NODES).list('')).items.filter((n) =>
      n.metadata?.name?.startsWith('cli-'),
    );
    assert.equal(left.length, 0);
  });
});
