import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/generated/types/core-v1.js';
import type { Client, ResourceClient, WatchEvent } from '../client/interface.js';
import { PODS } from '../client/resources.js';
import { limitRequests } from './request-limit.js';

/** A client whose requests stay in flight until released, counting how many are at once. */
function slowClient(): { client: Client; inFlight: () => number; peak: () => number; release: () => void } {
  let active = 0;
  let peak = 0;
  let waiting: (() => void)[] = [];
  const call = async <R>(v: R): Promise<R> => {
    active++;
    peak = Math.max(peak, active);
    await new Promise<void>((r) => waiting.push(r));
    active--;
    return v;
  };
  const pods = {
    gvr: PODS,
    get: () => call({ metadata: { name: 'p' } }),
    list: () => call({ metadata: {}, items: [] }),
    create: (_ns: string, obj: Pod) => call(obj),
    update: (_ns: string, obj: Pod) => call(obj),
    updateStatus: (_ns: string, obj: Pod) => call(obj),
    patch: () => call({}),
    delete: () => call(undefined),
    deleteCollection: () => call(undefined),
    watch: (): AsyncIterable<WatchEvent<Pod>> => ({
      async *[Symbol.asyncIterator]() {
        active++;
        peak = Math.max(peak, active);
        yield { type: 'ADDED', object: { metadata: { name: 'w' } } };
      },
    }),
  } as unknown as ResourceClient<Pod>;
  return {
    client: { resource: () => pods } as unknown as Client,
    inFlight: () => active,
    peak: () => peak,
    release: () => {
      const w = waiting;
      waiting = [];
      for (const r of w) r();
    },
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('limitRequests', () => {
  const verbs: [string, (r: ResourceClient<Pod>) => Promise<unknown>][] = [
    ['get', (r) => r.get('ns', 'p')],
    ['list', (r) => r.list('ns')],
    ['create', (r) => r.create('ns', { metadata: { name: 'p' } })],
    ['update', (r) => r.update('ns', { metadata: { name: 'p' } })],
    ['updateStatus', (r) => r.updateStatus('ns', { metadata: { name: 'p' } })],
    ['patch', (r) => r.patch('ns', 'p', 'merge', {})],
    ['delete', (r) => r.delete('ns', 'p')],
    ['deleteCollection', (r) => r.deleteCollection('ns')],
  ];
  for (const [verb, call] of verbs) {
    it(`holds ${verb} requests beyond the slots until one finishes`, async () => {
      const s = slowClient();
      const pods = limitRequests(s.client, 3).resource(PODS);
      const all = Promise.all(Array.from({ length: 7 }, () => call(pods)));
      await flush();
      assert.equal(s.inFlight(), 3);
      for (let i = 0; i < 3; i++) {
        s.release();
        await flush();
      }
      await all;
      assert.equal(s.peak(), 3);
      assert.equal(s.inFlight(), 0);
    });
  }

  it('shares the slots across resources and never counts watches', async () => {
    const s = slowClient();
    const limited = limitRequests(s.client, 2);
    const watched: string[] = [];
    for await (const ev of limited.resource(PODS).watch('ns'))
      if (ev.type === 'ADDED') watched.push(ev.object.metadata?.name ?? '');
    assert.deepEqual(watched, ['w']);
    const a = limited.resource(PODS).get('ns', 'a');
    const b = limited.resource(PODS).get('ns', 'b');
    const c = limited.resource(PODS).get('ns', 'c');
    await flush();
    // The watch stays counted by the fake (it never ended); two requests joined it.
    assert.equal(s.inFlight(), 3);
    s.release();
    await flush();
    s.release();
    await Promise.all([a, b, c]);
  });
});
