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

  /** The value under key, if any. */
  read(key: string): StateData | undefined {
    return this.data.get(key);
  }

  /** Stores a value under key. */
  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  /** Removes the value under key. */
  delete(key: string): void {
    this.data.delete(key);
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
