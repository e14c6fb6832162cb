// The storage conformance suite: one set of node:test cases every backend must pass.
// A backend's test file calls `runStorageConformance` with a way to open stores. All cases
// of one run share one store (etcd compaction is global, and starting a store per case is
// slow), so each case works under its own key prefix and asserts revisions relative to the
// revisions it observed itself.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isStorageError, type Revision, type Storage, type Watch, type WatchEvent } from './storage.js';

/** How the suite opens stores of one backend. */
export interface ConformanceTarget {
  /** Backend name shown in test titles. */
  name: string;
  /** Opens a store; the suite closes it. Called once for the shared store, more for close tests. */
  open(): Promise<Storage>;
  /** Extra wait for events to reach a watch buffer (remote backends), in ms. */
  settleMs?: number;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads up to `n` events, failing the test if they do not arrive within `timeoutMs`. */
export async function takeEvents(w: Watch, n: number, timeoutMs = 10_000): Promise<WatchEvent[]> {
  const it = w[Symbol.asyncIterator]();
  const out: WatchEvent[] = [];
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${out.length}/${n} events`)), timeoutMs);
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) break;
      out.push(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** Asserts that `p` rejects with a StorageError of `code`; returns it. */
async function rejectsWith<T>(p: Promise<T>, code: string) {
  try {
    await p;
  } catch (err) {
    assert.ok(isStorageError(err), `expected StorageError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected StorageError ${code}, but it resolved`);
}

/** Registers the conformance cases for one backend. */
export function runStorageConformance(target: ConformanceTarget): void {
  describe(`storage conformance: ${target.name}`, () => {
    let s: Storage;
    let n = 0;
    const prefix = (): string => `/conf/${Date.now().toString(36)}-${n++}/`;
    const settle = (): Promise<void> => sleep(target.settleMs ?? 0);

    before(async () => {
      s = await target.open();
    });
    after(async () => {
      await s.close();
    });

    it('create, get, create-exists', async () => {
      const p = prefix();
      const before = await s.currentRevision();
      const kv = await s.create(`${p}a`, enc('one'));
      assert.equal(kv.modRevision, before + 1);
      assert.equal(kv.createRevision, kv.modRevision);
      assert.equal(await s.currentRevision(), kv.modRevision);
      const got = await s.get(`${p}a`);
      assert.equal(dec(got?.value), 'one');
      assert.equal(got?.modRevision, kv.modRevision);
      assert.equal(got?.createRevision, kv.createRevision);
      assert.equal(await s.get(`${p}missing`), undefined);
      const err = await rejectsWith(s.create(`${p}a`, enc('two')), 'KeyExists');
      assert.equal(dec(err.current?.value), 'one');
      assert.equal(await s.currentRevision(), kv.modRevision, 'a failed write takes no revision');
    });

    it('update is compare-and-swap and a conflict carries the current value', async () => {
      const p = prefix();
      const c = await s.create(`${p}k`, enc('v1'));
      const u = await s.update(`${p}k`, enc('v2'), c.modRevision);
      assert.equal(u.modRevision, c.modRevision + 1);
      assert.equal(u.createRevision, c.createRevision);
      const err = await rejectsWith(s.update(`${p}k`, enc('v3'), c.modRevision), 'Conflict');
      assert.equal(dec(err.current?.value), 'v2');
      assert.equal(err.current?.modRevision, u.modRevision);
      assert.equal(err.current?.createRevision, c.createRevision);
      const unconditional = await s.update(`${p}k`, enc('v4'));
      assert.equal(unconditional.modRevision, u.modRevision + 1);
      await rejectsWith(s.update(`${p}nope`, enc('x'), 5), 'NotFound');
      await rejectsWith(s.update(`${p}nope`, enc('x')), 'NotFound');
      assert.equal(dec((await s.get(`${p}k`))?.value), 'v4');
    });

    it('delete is compare-and-swap; deleting a missing key is NotFound; re-create is new', async () => {
      const p = prefix();
      const c = await s.create(`${p}k`, enc('v1'));
      const u = await s.update(`${p}k`, enc('v2'), c.modRevision);
      const err = await rejectsWith(s.delete(`${p}k`, c.modRevision), 'Conflict');
      assert.equal(dec(err.current?.value), 'v2');
      const d = await s.delete(`${p}k`, u.modRevision);
      assert.equal(d.revision, u.modRevision + 1);
      assert.equal(dec(d.prev.value), 'v2');
      assert.equal(d.prev.modRevision, u.modRevision);
      assert.equal(await s.get(`${p}k`), undefined);
      await rejectsWith(s.delete(`${p}k`), 'NotFound');
      await rejectsWith(s.delete(`${p}k`, d.revision), 'NotFound');
      const again = await s.create(`${p}k`, enc('v3'));
      assert.equal(again.createRevision, d.revision + 1);
      const d2 = await s.delete(`${p}k`);
      assert.equal(d2.prev.createRevision, again.createRevision);
    });

    it('reads at old revisions; a future revision is FutureRevision', async () => {
      const p = prefix();
      const c = await s.create(`${p}k`, enc('v1'));
      const u = await s.update(`${p}k`, enc('v2'), c.modRevision);
      const d = await s.delete(`${p}k`, u.modRevision);
      assert.equal(dec((await s.get(`${p}k`, { revision: c.modRevision }))?.value), 'v1');
      assert.equal(dec((await s.get(`${p}k`, { revision: u.modRevision }))?.value), 'v2');
      assert.equal(await s.get(`${p}k`, { revision: d.revision }), undefined);
      assert.equal(await s.get(`${p}k`, { revision: c.modRevision - 1 }), undefined);
      const old = await s.list(p, { revision: u.modRevision });
      assert.deepEqual(
        old.items.map((i) => [i.key, dec(i.value), i.modRevision]),
        [[`${p}k`, 'v2', u.modRevision]],
      );
      assert.equal(old.revision, u.modRevision);
      const cur = await s.currentRevision();
      await rejectsWith(s.get(`${p}k`, { revision: cur + 10 }), 'FutureRevision');
      await rejectsWith(s.list(p, { revision: cur + 10 }), 'FutureRevision');
    });

    it('list: byte-prefix isolation, key order, count per prefix', async () => {
      const p = prefix();
      for (const k of ['a/b/2', 'a/b/1', 'a/bc/1', 'a/b', 'a/c/1', 'a/b/sub/x']) {
        await s.create(`${p}${k}`, enc(k));
      }
      const keys = async (pre: string) =>
        (await s.list(`${p}${pre}`)).items.map((i) => i.key.slice(p.length));
      assert.deepEqual(await keys('a/b/'), ['a/b/1', 'a/b/2', 'a/b/sub/x']);
      assert.deepEqual(await keys('a/bc/'), ['a/bc/1']);
      assert.deepEqual(await keys('a/b'), ['a/b', 'a/b/1', 'a/b/2', 'a/b/sub/x', 'a/bc/1']);
      assert.deepEqual(await keys('z/'), []);
      assert.equal(await s.count(`${p}a/b/`), 3);
      assert.equal(await s.count(`${p}a/`), 6);
      await s.delete(`${p}a/b/1`);
      assert.equal(await s.count(`${p}a/b/`), 2);
      assert.equal(await s.count(`${p}zzz/`), 0);
      const list = await s.list(`${p}a/`);
      assert.equal(list.revision, await s.currentRevision());
      assert.equal(list.continue, undefined);
    });

    it('list paging with continue stays on one snapshot while writes continue', async () => {
      const p = prefix();
      for (let i = 0; i < 25; i++) await s.create(`${p}${String(i).padStart(3, '0')}`, enc(`v${i}`));
      const snapshot = await s.list(p);
      const seen: string[] = [];
      let page = await s.list(p, { limit: 10 });
      const rev = page.revision;
      assert.equal(rev, snapshot.revision);
      let pages = 1;
      for (;;) {
        seen.push(...page.items.map((i) => `${i.key}=${dec(i.value)}`));
        if (!page.continue) break;
        assert.equal(page.items.length, 10);
        // Writes between pages must not show up in later pages of the same list.
        const [upd, del] = pages === 1 ? [17, 18] : [22, 23];
        await s.create(`${p}${String(pages * 10 + 5).padStart(3, '0')}x`, enc('new'));
        await s.update(`${p}${String(upd).padStart(3, '0')}`, enc('changed'));
        await s.delete(`${p}${String(del).padStart(3, '0')}`);
        page = await s.list(p, { limit: 10, continue: page.continue });
        assert.equal(page.revision, rev);
        pages++;
      }
      assert.equal(pages, 3);
      assert.deepEqual(
        seen,
        snapshot.items.map((i) => `${i.key}=${dec(i.value)}`),
      );
      await rejectsWith(s.list(p, { continue: 'not-a-token' }), 'InvalidArgument');
      const other = await s.list(p, { limit: 1 });
      await rejectsWith(s.list(`${p}x`, { continue: other.continue }), 'InvalidArgument');
    });

    it('values are stored byte-exact, including ~1 MiB values', async () => {
      const p = prefix();
      const bin = new Uint8Array([0, 1, 2, 255, 254, 0, 128]);
      await s.create(`${p}bin`, bin);
      assert.deepEqual(new Uint8Array((await s.get(`${p}bin`))!.value), bin);
      const big = new Uint8Array(1024 * 1024 - 4096);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const w = s.watch(p);
      const c = await s.create(`${p}big`, big);
      await s.update(`${p}big`, big, c.modRevision);
      const got = await s.get(`${p}big`);
      assert.equal(Buffer.compare(Buffer.from(got!.value), Buffer.from(big)), 0);
      const listed = await s.list(p);
      assert.equal(listed.items.length, 2);
      const evs = await takeEvents(w, 2);
      assert.equal(evs[1]!.value.length, big.length);
      assert.equal(evs[1]!.prevValue?.length, big.length);
      w.close();
    });

    it('watch: ADDED/MODIFIED/DELETED with prevValue, prefix isolation', async () => {
      const p = prefix();
      const start = await s.currentRevision();
      const w = s.watch(`${p}a/`, { fromRevision: start });
      await s.create(`${p}ab/x`, enc('other'));
      const c = await s.create(`${p}a/x`, enc('v1'));
      const u = await s.update(`${p}a/x`, enc('v2'), c.modRevision);
      const d = await s.delete(`${p}a/x`);
      const evs = await takeEvents(w, 3);
      assert.deepEqual(
        evs.map((e) => [e.type, e.key, dec(e.value), dec(e.prevValue), e.modRevision, e.createRevision]),
        [
          ['ADDED', `${p}a/x`, 'v1', undefined, c.modRevision, c.modRevision],
          ['MODIFIED', `${p}a/x`, 'v2', 'v1', u.modRevision, c.modRevision],
          ['DELETED', `${p}a/x`, 'v2', 'v2', d.revision, c.modRevision],
        ],
      );
      assert.ok(w.progressRevision() >= d.revision);
      w.close();
      const r = await w[Symbol.asyncIterator]().next();
      assert.equal(r.done, true);
    });

    it('watch: revision order and no gaps under concurrent writers', async () => {
      const p = prefix();
      const start = await s.currentRevision();
      const w = s.watch(p, { fromRevision: start });
      const writers = 4;
      const perWriter = 40;
      await Promise.all(
        Array.from({ length: writers }, async (_, wi) => {
          const key = `${p}w${wi}`;
          let kv = await s.create(key, enc('0'));
          for (let i = 1; i < perWriter - 1; i++) kv = await s.update(key, enc(String(i)), kv.modRevision);
          await s.delete(key, kv.modRevision);
        }),
      );
      const evs = await takeEvents(w, writers * perWriter);
      assert.equal(evs.length, writers * perWriter);
      for (const [i, e] of evs.entries()) assert.equal(e.modRevision, start + 1 + i, 'consecutive revisions');
      for (let wi = 0; wi < writers; wi++) {
        const mine = evs.filter((e) => e.key === `${p}w${wi}`);
        assert.equal(mine[0]!.type, 'ADDED');
        assert.equal(mine[mine.length - 1]!.type, 'DELETED');
        for (let i = 1; i < mine.length - 1; i++) {
          assert.equal(mine[i]!.type, 'MODIFIED');
          assert.equal(dec(mine[i]!.prevValue), String(i - 1));
        }
      }
      w.close();
    });

    it('watch from an old revision replays history, then goes live without gaps or duplicates', async () => {
      const p = prefix();
      const revs: Revision[] = [];
      for (let i = 0; i < 6; i++) revs.push((await s.create(`${p}k${i}`, enc(String(i)))).modRevision);
      // Writes in flight while the replay runs must come after it, exactly once.
      const w = s.watch(p, { fromRevision: revs[1]! });
      const live = Promise.all([0, 1, 2].map((i) => s.update(`${p}k${i}`, enc(`u${i}`))));
      const evs = await takeEvents(w, 7);
      const liveRevs = (await live).map((kv) => kv.modRevision).sort((a, b) => a - b);
      assert.deepEqual(
        evs.map((e) => e.modRevision),
        [...revs.slice(2), ...liveRevs],
      );
      assert.deepEqual(
        evs.slice(0, 4).map((e) => e.type),
        ['ADDED', 'ADDED', 'ADDED', 'ADDED'],
      );
      const more = await s.create(`${p}later`, enc('x'));
      const [last] = await takeEvents(w, 1);
      assert.equal(last?.modRevision, more.modRevision);
      w.close();
    });

    it('watch from a future revision starts after it', async () => {
      const p = prefix();
      const cur = await s.currentRevision();
      const w = s.watch(p, { fromRevision: cur + 2 });
      await s.create(`${p}1`, enc('1'));
      await s.create(`${p}2`, enc('2'));
      const third = await s.create(`${p}3`, enc('3'));
      const [ev] = await takeEvents(w, 1);
      assert.equal(ev?.modRevision, third.modRevision);
      w.close();
    });

    it('many watchers each get every event in order', async () => {
      const p = prefix();
      const start = await s.currentRevision();
      const watchers = Array.from({ length: 50 }, () => s.watch(p, { fromRevision: start }));
      for (let i = 0; i < 20; i++) await s.create(`${p}${i}`, enc(String(i)));
      const all = await Promise.all(watchers.map((w) => takeEvents(w, 20)));
      for (const evs of all) {
        assert.deepEqual(
          evs.map((e) => e.modRevision),
          Array.from({ length: 20 }, (_, i) => start + 1 + i),
        );
      }
      for (const w of watchers) w.close();
    });

    it('a watcher that falls too far behind fails with WatchOverflow', async () => {
      const p = prefix();
      const start = await s.currentRevision();
      const w = s.watch(p, { bufferSize: 5, fromRevision: start });
      const ok = s.watch(p, { fromRevision: start });
      for (let i = 0; i < 20; i++) await s.create(`${p}${i}`, enc(String(i)));
      await takeEvents(ok, 20);
      await settle();
      await rejectsWith(w[Symbol.asyncIterator]().next(), 'WatchOverflow');
      ok.close();
      w.close();
    });

    it('aborting the signal ends a watch', async () => {
      const p = prefix();
      const ac = new AbortController();
      const w = s.watch(p, { signal: ac.signal, fromRevision: await s.currentRevision() });
      const got: WatchEvent[] = [];
      const loop = (async () => {
        for await (const ev of w) {
          got.push(ev);
          if (got.length === 1) ac.abort();
        }
      })();
      await s.create(`${p}x`, enc('x'));
      await loop;
      assert.equal(got.length, 1);
    });

    it('compaction: old reads, lists and watches fail with Compacted; newer ones work', async () => {
      const p = prefix();
      const c = await s.create(`${p}k`, enc('v1'));
      const u = await s.update(`${p}k`, enc('v2'), c.modRevision);
      const gone = await s.create(`${p}gone`, enc('g'));
      const dg = await s.delete(`${p}gone`);
      const u3 = await s.update(`${p}k`, enc('v3'), u.modRevision);
      const at = dg.revision;
      await s.compact(at);
      assert.ok((await s.compactRevision()) >= at);
      await rejectsWith(s.get(`${p}k`, { revision: c.modRevision }), 'Compacted');
      await rejectsWith(s.list(p, { revision: gone.modRevision }), 'Compacted');
      assert.equal(dec((await s.get(`${p}k`, { revision: at }))?.value), 'v2');
      assert.deepEqual(
        (await s.list(p, { revision: at })).items.map((i) => [i.key, dec(i.value)]),
        [[`${p}k`, 'v2']],
      );
      assert.equal(await s.get(`${p}gone`, { revision: at }), undefined);
      const old = s.watch(p, { fromRevision: c.modRevision });
      await rejectsWith(takeEvents(old, 1), 'Compacted');
      const ok = s.watch(p, { fromRevision: at });
      const [ev] = await takeEvents(ok, 1);
      assert.equal(ev?.modRevision, u3.modRevision);
      assert.equal(dec(ev?.prevValue), 'v2');
      ok.close();
      await rejectsWith(s.compact(at), 'Compacted');
      await rejectsWith(s.compact((await s.currentRevision()) + 100), 'FutureRevision');
    });

    it('a list page taken before compaction cannot continue past it', async () => {
      const p = prefix();
      for (let i = 0; i < 4; i++) await s.create(`${p}${i}`, enc(String(i)));
      const first = await s.list(p, { limit: 2 });
      await s.update(`${p}3`, enc('x'));
      await s.compact(await s.currentRevision());
      await rejectsWith(s.list(p, { limit: 2, continue: first.continue }), 'Compacted');
    });

    it('close ends watches and rejects later calls with Unavailable', async () => {
      const other = await target.open();
      const w = other.watch('/closing/');
      await other.close();
      const r = w[Symbol.asyncIterator]().next();
      await r.then(
        (res) => assert.equal(res.done, true),
        (err: unknown) => assert.ok(isStorageError(err, 'Unavailable'), String(err)),
      );
      await rejectsWith(other.get('/closing/x'), 'Unavailable');
      await rejectsWith(other.create('/closing/x', enc('x')), 'Unavailable');
    });
  });
}
