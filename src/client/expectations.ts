// Controller expectations (kubernetes pkg/controller/controller_utils.go). A controller
// that just created 3 pods must not create 3 more on its next sync merely because its
// informer has not seen the first 3 yet. Before writing, it records how many creations /
// deletions it expects for the owner's key; informer handlers lower the counts as the
// objects show up; `satisfiedExpectations(key)` tells sync whether the cache has caught up.
// Expectations older than 5 minutes count as satisfied, so a lost watch event cannot wedge
// a controller forever.
import { type Clock, realClock } from './clock.js';

/** Upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

/** Pending creations and deletions for one controller key. */
export interface ControlleeExpectations {
  add: number;
  del: number;
  /** When the expectations were set (ms). */
  timestamp: number;
}

/** Expectations per controller key. */
export class ControllerExpectations {
  private readonly store = new Map<string, ControlleeExpectations>();

  /** Expectations on `clock`. */
  constructor(protected readonly clock: Clock = realClock) {}

  /** The record of a key, if any. */
  getExpectations(key: string): ControlleeExpectations | undefined {
    return this.store.get(key);
  }

  /** True when the cache caught up with our writes, the record expired, or there is none. */
  satisfiedExpectations(key: string): boolean {
    const e = this.store.get(key);
    if (e === undefined) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.timestamp > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Replaces the expectations of a key. */
  setExpectations(key: string, add: number, del: number): void {
    this.store.set(key, { add, del, timestamp: this.clock.now() });
  }

  /** Expects `adds` creations. */
  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  /** Expects `dels` deletions. */
  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  /** Adds to the expected counts (keeps the timestamp). */
  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (e === undefined) return;
    e.add += add;
    e.del += del;
  }

  /** Subtracts from the expected counts. */
  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (e === undefined) return;
    e.add -= add;
    e.del -= del;
  }

  /** One expected creation was observed. */
  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  /** One expected deletion was observed. */
  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }

  /** Drops the record (the controller object is gone). */
  deleteExpectations(key: string): void {
    this.store.delete(key);
  }
}

/**
 * Expectations that remember *which* objects are expected to be deleted
 * (UIDTrackingControllerExpectations), so a deletion observed twice — once from the watch,
 * once as a tombstone after a relist — is counted once.
 */
export class UIDTrackingExpectations extends ControllerExpectations {
  private readonly uids = new Map<string, Set<string>>();

  /** Expects the deletion of these object keys. */
  expectDeletionsOf(key: string, deletedKeys: string[]): void {
    this.uids.set(key, new Set(deletedKeys));
    this.expectDeletions(key, deletedKeys.length);
  }

  /** Records that the object `deleteKey` owned by `key` was deleted (once per object). */
  deletionObservedOf(key: string, deleteKey: string): void {
    const set = this.uids.get(key);
    if (set === undefined || !set.delete(deleteKey)) return;
    this.deletionObserved(key);
  }

  /** The object keys still expected to be deleted. */
  getUIDs(key: string): ReadonlySet<string> | undefined {
    return this.uids.get(key);
  }

  override deleteExpectations(key: string): void {
    super.deleteExpectations(key);
    this.uids.delete(key);
  }
}
