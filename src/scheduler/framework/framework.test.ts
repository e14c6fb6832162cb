import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realClock } from '../clock.js';
import { makeNode, makePod, testHandle } from '../testing.js';
import { CycleState } from './cycle-state.js';
import { type EnabledPlugin, EXTENSION_POINTS, type ExtensionPoint, Framework } from './framework.js';
import type { NodeScore, Plugin, PluginFactory, ScorePlugin } from './interfaces.js';
import { newNodeInfo } from './node-info.js';
import { Snapshot } from './snapshot.js';
import { Code, Status } from './status.js';

// A Score plugin returning scores[node index] (or a Status), optionally normalizing by ×2.
function scorer(name: string, scores: (number | Status)[], normalize = false): PluginFactory {
  return () => {
    const p: ScorePlugin = {
      name,
      score: (_s, _p, ni) => scores[Number(ni.name.slice(1))] as number | Status,
    };
    if (normalize) {
      p.scoreExtensions = () => ({
        normalizeScore: (_s, _p, list: NodeScore[]) => {
          for (const x of list) x.score *= 2;
          return null;
        },
      });
    }
    return p as Plugin;
  };
}

function framework(plugins: { name: string; weight: number; factory: PluginFactory }[]): Framework {
  const points = Object.fromEntries(EXTENSION_POINTS.map((p) => [p, [] as EnabledPlugin[]])) as Record<
    ExtensionPoint,
    EnabledPlugin[]
  >;
  points.score = plugins.map((p) => ({ name: p.name, weight: p.weight }));
  points.bind = [{ name: 'B' }];
  const registry = new Map<string, PluginFactory>(plugins.map((p) => [p.name, p.factory]));
  registry.set('B', () => ({ name: 'B', bind: async () => null }) as Plugin);
  return new Framework(
    { schedulerName: 'test', plugins: points, pluginArgs: new Map() },
    registry,
    testHandle(new Snapshot()),
    realClock,
  );
}

const nodes = [0, 1, 2].map((i) => newNodeInfo(makeNode(`n${i}`)));

describe('Framework.runScorePlugins', () => {
  const cases: {
    name: string;
    plugins: { name: string; weight: number; factory: PluginFactory }[];
    want: number[] | string;
  }[] = [
    {
      name: 'weights plain and normalized plugins into one total per node',
      plugins: [
        { name: 'A', weight: 2, factory: scorer('A', [10, 20, 30]) },
        { name: 'N', weight: 1, factory: scorer('N', [1, 2, 3], true) },
        { name: 'M', weight: 3, factory: scorer('M', [5, 0, 5], true) },
      ],
      want: [20 + 2 + 30, 40 + 4 + 0, 60 + 6 + 30],
    },
    {
      name: 'rejects a score out of range after normalizing',
      plugins: [{ name: 'N', weight: 1, factory: scorer('N', [10, 60, 0], true) }],
      want: 'plugin "N" returns an invalid score 120, it should in the range of [0, 100] after normalizing',
    },
    {
      name: 'a failing Score wins over an earlier out-of-range score',
      plugins: [
        {
          name: 'A',
          weight: 1,
          factory: scorer('A', [101, 1, new Status(Code.Error, ['boom'])]),
        },
      ],
      want: 'boom',
    },
    {
      name: 'reports an out-of-range score of a plugin without normalization',
      plugins: [{ name: 'A', weight: 1, factory: scorer('A', [1, -1, 1]) }],
      want: 'plugin "A" returns an invalid score -1, it should in the range of [0, 100] after normalizing',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = framework(c.plugins).runScorePlugins(new CycleState(), makePod('p'), nodes);
      if (typeof c.want === 'string') {
        assert.ok(got instanceof Status);
        assert.equal(got.message(), c.want);
      } else {
        assert.deepEqual(got, c.want);
      }
    });
  }
});
