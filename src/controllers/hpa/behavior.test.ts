import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completeBehavior,
  type NormalizationInput,
  ScalingHistory,
  scaleDownLimit,
  scaleUpLimit,
} from './behavior.js';

const T0 = 1_000_000;
const FIVE_MIN = 5 * 60_000;

function input(o: Partial<NormalizationInput>): NormalizationInput {
  return { key: 'ns/h', currentReplicas: 2, desiredReplicas: 2, minReplicas: 1, maxReplicas: 10, ...o };
}

describe('completeBehavior', () => {
  it("fills upstream's defaults and keeps what is set", () => {
    const b = completeBehavior({ scaleDown: { stabilizationWindowSeconds: 10 } }, FIVE_MIN);
    assert.deepEqual(b.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    });
    assert.deepEqual(b.scaleDown, {
      stabilizationWindowSeconds: 10,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
    assert.equal(completeBehavior({}, FIVE_MIN).scaleDown.stabilizationWindowSeconds, 300);
  });
});

describe('scale limits', () => {
  const up = completeBehavior({}, FIVE_MIN).scaleUp;
  const cases: [string, number, number][] = [
    ['Max picks the larger change', scaleUpLimit(2, [], [], up, T0), 6],
    ['Min picks the smaller change', scaleUpLimit(2, [], [], { ...up, selectPolicy: 'Min' }, T0), 4],
    ['Disabled keeps the count', scaleUpLimit(2, [], [], { ...up, selectPolicy: 'Disabled' }, T0), 2],
    [
      'events in the period count against it',
      scaleUpLimit(
        6,
        [{ replicaChange: 4, timestampMs: T0 - 5_000, outdated: false }],
        [],
        { ...up, policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] },
        T0,
      ),
      6,
    ],
    [
      'percent down truncates',
      scaleDownLimit(
        5,
        [],
        [],
        {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 50, periodSeconds: 15 }],
        },
        T0,
      ),
      2,
    ],
  ];
  for (const [name, got, want] of cases) it(name, () => assert.equal(got, want));
});

describe('ScalingHistory without behavior', () => {
  it('holds the highest recommendation of the downscale window, then lets go', () => {
    const h = new ScalingHistory(FIVE_MIN);
    h.recordInitial('ns/h', 5, T0);
    const held = h.normalize(input({ currentReplicas: 5, desiredReplicas: 2 }), T0 + 1000);
    assert.equal(held.replicas, 5);
    assert.deepEqual(held.conditions[0]?.slice(0, 3), ['AbleToScale', 'True', 'ScaleDownStabilized']);
    const later = h.normalize(input({ currentReplicas: 5, desiredReplicas: 2 }), T0 + FIVE_MIN + 2000);
    assert.equal(later.replicas, 2);
    assert.deepEqual(later.conditions[1]?.slice(0, 3), ['ScalingLimited', 'False', 'DesiredWithinRange']);
  });

  it('caps a scale up at max(2×current, 4) and at maxReplicas', () => {
    const h = new ScalingHistory(FIVE_MIN);
    const r = h.normalize(input({ currentReplicas: 1, desiredReplicas: 9 }), T0);
    assert.equal(r.replicas, 4);
    assert.deepEqual(r.conditions[1]?.slice(0, 3), ['ScalingLimited', 'True', 'ScaleUpLimit']);
    const m = h.normalize(input({ key: 'x', currentReplicas: 4, desiredReplicas: 9, maxReplicas: 5 }), T0);
    assert.equal(m.replicas, 5);
    assert.deepEqual(m.conditions[1]?.slice(0, 3), ['ScalingLimited', 'True', 'TooManyReplicas']);
    const f = h.normalize(input({ key: 'y', currentReplicas: 3, desiredReplicas: 1, minReplicas: 2 }), T0);
    assert.equal(f.replicas, 2);
    assert.deepEqual(f.conditions[1]?.slice(0, 3), ['ScalingLimited', 'True', 'TooFewReplicas']);
  });
});

describe('ScalingHistory with behavior', () => {
  it('uses the behavior scale-down window', () => {
    const h = new ScalingHistory(FIVE_MIN);
    const behavior = { scaleDown: { stabilizationWindowSeconds: 10 } };
    h.recordInitial('ns/h', 5, T0);
    assert.equal(
      h.normalize(input({ currentReplicas: 5, desiredReplicas: 2, behavior }), T0 + 5_000).replicas,
      5,
    );
    const r = h.normalize(input({ currentReplicas: 5, desiredReplicas: 2, behavior }), T0 + 11_000);
    // The 2 recorded at +5 s is inside the window and is the highest left.
    assert.equal(r.replicas, 2);
  });

  it('limits the rate by policy and remembers scale events', () => {
    const h = new ScalingHistory(FIVE_MIN);
    const behavior = { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
    const first = h.normalize(input({ currentReplicas: 2, desiredReplicas: 10, behavior }), T0);
    assert.equal(first.replicas, 3);
    assert.deepEqual(first.conditions[1]?.slice(0, 3), ['ScalingLimited', 'True', 'ScaleUpLimit']);
    h.storeScaleEvent('ns/h', behavior, 2, 3, T0);
    const second = h.normalize(input({ currentReplicas: 3, desiredReplicas: 10, behavior }), T0 + 30_000);
    assert.equal(second.replicas, 3);
    const third = h.normalize(input({ currentReplicas: 3, desiredReplicas: 10, behavior }), T0 + 61_000);
    assert.equal(third.replicas, 4);
  });

  it('Disabled scale-down never shrinks', () => {
    const h = new ScalingHistory(FIVE_MIN);
    const behavior = { scaleDown: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 } };
    const r = h.normalize(input({ currentReplicas: 6, desiredReplicas: 2, behavior }), T0);
    assert.equal(r.replicas, 6);
    assert.deepEqual(r.conditions[1]?.slice(0, 3), ['ScalingLimited', 'True', 'ScaleDownLimit']);
  });
});
