// Data shared between the extension points of one scheduling cycle for one pod. A plugin
// writes what its PreFilter/PreScore computed and reads it back in Filter/Score. Preemption
// clones the state to try "what if these pods were gone" without disturbing the real cycle.

/** A value stored in CycleState; clone() must deep-copy whatever Add/RemovePod mutates. */
export interface StateData {
  /** A copy safe to mutate independently of this one. */
  clone(): StateData;
}

/** Per-cycle key/value store plus the plugins PreFilter/PreScore told the framework to skip. */
export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Filter plugins whose PreFilter returned Skip. */
  skipFilterPlugins: Set<string> = new Set();
  /** Score plugins whose PreScore returned Skip. */
  skipScorePlugins: Set<string> = new Set();
  /**
   * The framework's Filter plugins minus the skipped ones, cached by the framework that
   * built it (opaque here; `skipped` is the skip-set size it was built from).
   */
  filterPlan: { owner: unknown; skipped: number; plugins: readonly unknown[] } | undefined = undefined;
  /** Bumped by every write and delete, so StateCache notices a replaced value. */
  version = 0;

  /** The value under key, if any. */
  read(key: string): StateData | undefined {
    return this.data.get(key);
  }

  /** Stores a value under key. */
  write(key: string, value: StateData): void {
    this.data.set(key, value);
    this.version++;
  }

  /** Removes the value under key. */
  delete(key: string): void {
    this.data.delete(key);
    this.version++;
  }

  /** A deep copy (each value's clone()). */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    c.skipFilterPlugins = new Set(this.skipFilterPlugins);
    c.skipScorePlugins = new Set(this.skipScorePlugins);
    return c;
  }
}

/** Reads key and narrows it to the class the plugin stored; undefined when absent or foreign. */
export function readState<T extends StateData>(
  state: CycleState,
  key: string,
  ctor: abstract new (...args: never[]) => T,
): T | undefined {
  const v = state.read(key);
  return v instanceof ctor ? v : undefined;
}

/**
 * readState for one key, remembering the last state it was read from: Filter and Score
 * read their PreFilter/PreScore value once per node, hundreds of times per cycle, and a
 * Map lookup plus a class check each time shows in the profile. A write to the state (or a
 * different state, such as preemption's clones) reads afresh.
 */
export class StateCache<T extends StateData> {
  private state: CycleState | undefined = undefined;
  private version = -1;
  private value: T | undefined = undefined;

  /** A cache of the value under `key`, narrowed to `ctor`. */
  constructor(
    private readonly key: string,
    private readonly ctor: abstract new (...args: never[]) => T,
  ) {}

  /** The value under the key in state, as readState would return it. */
  read(state: CycleState): T | undefined {
    if (state === this.state && state.version === this.version) return this.value;
    const v = readState(state, this.key, this.ctor);
    this.state = state;
    this.version = state.version;
    this.value = v;
    return v;
  }
}
