import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ControllerRegistration, isControllerEnabled, unknownControllers } from './manager.js';

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
