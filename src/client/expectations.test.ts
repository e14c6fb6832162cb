import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPECTATIONS_TIMEOUT_MS, ControllerExpectations, UIDTrackingExpectations } from './expectations.js';
import { FakeClock } from './testing/fake-clock.js';

describe('ControllerExpectations', () => {
  it('is satisfied once every expected creation/deletion is observed', () => {
    const e = new ControllerExpectations(new FakeClock());
    assert.equal(e.satisfiedExpectations('ns/rs'), true, 'no record');
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfiedExpectations('ns/rs'), true);
    e.expectDeletions('ns/rs', 1);
    e.raiseExpectations('ns/rs', 1, 0);
    e.deletionObserved('ns/rs');
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    e.lowerExpectations('ns/rs', 1, 0);
    assert.equal(e.satisfiedExpectations('ns/rs'), true);
    e.deleteExpectations('ns/rs');
    assert.equal(e.getExpectations('ns/rs'), undefined);
  });

  it('expires after 5 minutes', () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations(clock);
    e.expectCreations('k', 1);
    clock.step(EXPECTATIONS_TIMEOUT_MS);
    assert.equal(e.satisfiedExpectations('k'), false);
    clock.step(1);
    assert.equal(e.satisfiedExpectations('k'), true);
  });

  it('UID tracking counts each deleted object once', () => {
    const e = new UIDTrackingExpectations(new FakeClock());
    e.expectDeletionsOf('k', ['ns/a', 'ns/b']);
    e.deletionObservedOf('k', 'ns/a');
    e.deletionObservedOf('k', 'ns/a');
    assert.equal(e.satisfiedExpectations('k'), false);
    e.deletionObservedOf('k', 'ns/b');
    assert.equal(e.satisfiedExpectations('k'), true);
  });
});
