import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareKubeVersions } from './version-priority.js';

describe('compareKubeVersions', () => {
  it('orders as upstream', () => {
    const want = [
      'v10',
      'v2',
      'v1',
      'v11beta2',
      'v10beta3',
      'v3beta1',
      'v12alpha1',
      'v11alpha2',
      'foo1',
      'foo10',
    ];
    const shuffled = [...want].reverse();
    assert.deepEqual(shuffled.sort(compareKubeVersions), want);
  });
});
