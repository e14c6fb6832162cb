import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClient } from '../client/testing/fake-client.js';
import {
  ControllerManager,
  type ControllerRegistration,
  isControllerEnabled,
  unknownControllers,
} from './manager.js';

const reg = (name: string, disabledByDefault = false): ControllerRegistration => ({
  name,
  aliases: [`${name}-controller`],
  disabledByDefault,
  factory: () => ({ name, run: async () => {} }),
});

describe('--controllers selection', () => {
  const cases: Array<[string[], ControllerRegistration, boolean]> = [
    [['*'], reg('deployment'), true],
    [['*'], reg('bootstrapsigner', true), false],
    [['*', 'bootstrapsigner'], reg('bootstrapsigner', true), true],
    [['*', '-deployment'], reg('deployment'), false],
    [['-deployment', '*'], reg('deployment'), false],
    [['replicaset'], reg('deployment'), false],
    [['deployment-controller'], reg('deployment'), true],
    [['*', '-deployment-controller'], reg('deployment'), false],
  ];
  for (const [sel, r, want] of cases) {
    it(`${sel.join(',')} → ${r.name} ${want ? 'on' : 'off'}`, () => {
      assert.equal(isControllerEnabled(r, sel), want);
    });
  }
  it('reports unknown names', () => {
    assert.deepEqual(unknownControllers([reg('deployment')], ['*', '-deployment', 'nope', '-bad']), [
      'nope',
      '-bad',
    ]);
  });
});

describe('start order', () => {
  it('starts the first controllers at once and the rest once released, in registry order', async () => {
    const started: string[] = [];
    const tracked = (name: string): ControllerRegistration => ({
      name,
      factory: () => ({
        name,
        run: async (signal) => {
          started.push(name);
          await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        },
      }),
    });
    let release: () => void = () => {};
    const rest = new Promise<void>((r) => {
      release = r;
    });
    const manager = new ControllerManager({
      client: new FakeClient(),
      registry: [tracked('a'), tracked('nodeipam'), tracked('b'), tracked('c')],
      startOrder: { first: ['nodeipam'], rest },
    });
    const ac = new AbortController();
    const done = manager.run(ac.signal);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(started, ['nodeipam']);
    release();
    const deadline = Date.now() + 2000;
    while (started.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(started, ['nodeipam', 'a', 'b', 'c']);
    ac.abort();
    await done;
  });

  it('stops waiting for the release when the manager stops', async () => {
    const manager = new ControllerManager({
      client: new FakeClient(),
      registry: [reg('later')],
      startOrder: { first: [], rest: new Promise<void>(() => {}) },
    });
    const ac = new AbortController();
    const done = manager.run(ac.signal);
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await done;
    assert.deepEqual(manager.startedControllers(), []);
  });
});
