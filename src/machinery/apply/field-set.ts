// A set of field paths (upstream fieldpath.Set): a tree where each node is one path element
// that is itself a member of the set, the parent of deeper members, or both. Managed fields
// are one such set per manager, stored on objects in the `fieldsV1` encoding, where `.`
// marks a node that is a member and also has children.
//
// Sets are values: every operation returns a new set and may share unchanged subtrees with
// its inputs, so a set must not be mutated (insert) once it has been handed to an operation.
// Nodes are keyed by their serialized element, which makes every operation linear in the
// size of the sets involved.
import {
  comparePathElements,
  type Path,
  type PathElement,
  parsePathElement,
  serializePathElement,
} from './path-element.js';

interface SetNode {
  pe: PathElement;
  member: boolean;
  children: FieldSet | undefined;
}

/** The fieldsV1 JSON form of a set: nested objects keyed by serialized path elements. */
export type FieldsV1 = { [key: string]: FieldsV1 };

/** A set of field paths. */
export class FieldSet {
  private readonly nodes: Map<string, SetNode>;

  /** Builds a set holding the given paths. */
  constructor(paths: Iterable<Path> = []) {
    this.nodes = new Map();
    for (const p of paths) this.insert(p);
  }

  /** An empty set. */
  static empty(): FieldSet {
    return new FieldSet();
  }

  /** Adds a path (its parents are not added). Only for sets still being built. */
  insert(path: Path): void {
    if (path.length === 0) return; // the root is never tracked, as upstream
    let set: FieldSet = this;
    for (let i = 0; i < path.length; i++) {
      const pe = path[i]!;
      const key = serializePathElement(pe);
      let node = set.nodes.get(key);
      if (node === undefined) {
        node = { pe, member: false, children: undefined };
        set.nodes.set(key, node);
      }
      if (i === path.length - 1) {
        node.member = true;
      } else {
        if (node.children === undefined) node.children = new FieldSet();
        set = node.children;
      }
    }
  }

  /** Marks `pe` (a direct element of this set) as a member. Only for sets being built. */
  insertElement(pe: PathElement, key = serializePathElement(pe)): void {
    const node = this.nodes.get(key);
    if (node === undefined) this.nodes.set(key, { pe, member: true, children: undefined });
    else node.member = true;
  }

  /** Attaches `child` as the subtree under `pe`, merging with what is there. Builders only. */
  attachChild(pe: PathElement, child: FieldSet, key = serializePathElement(pe)): void {
    if (child.isEmpty()) return;
    const node = this.nodes.get(key);
    if (node === undefined) this.nodes.set(key, { pe, member: false, children: child });
    else node.children = node.children === undefined ? child : node.children.union(child);
  }

  /** True when the set holds no path. */
  isEmpty(): boolean {
    return this.nodes.size === 0;
  }

  /** Number of paths in the set. */
  size(): number {
    let n = 0;
    for (const node of this.nodes.values()) {
      if (node.member) n++;
      if (node.children !== undefined) n += node.children.size();
    }
    return n;
  }

  /** True when the exact path is a member. */
  has(path: Path): boolean {
    let set: FieldSet | undefined = this;
    for (let i = 0; i < path.length; i++) {
      const node: SetNode | undefined = set?.nodes.get(serializePathElement(path[i]!));
      if (node === undefined) return false;
      if (i === path.length - 1) return node.member;
      set = node.children;
    }
    return false;
  }

  /** True when `pe` is a member at this level. */
  hasElement(key: string): boolean {
    return this.nodes.get(key)?.member === true;
  }

  /** The subtree below element `key` (serialized), or an empty set. */
  withPrefix(key: string): FieldSet {
    return this.nodes.get(key)?.children ?? EMPTY;
  }

  /** The elements directly at this level: [serialized key, element, isMember, hasChildren]. */
  *elements(): IterableIterator<[string, PathElement, boolean, FieldSet | undefined]> {
    for (const [k, n] of this.nodes) yield [k, n.pe, n.member, n.children];
  }

  /** Paths in either set. */
  union(other: FieldSet): FieldSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const out = new FieldSet();
    for (const [k, n] of this.nodes) {
      const o = other.nodes.get(k);
      if (o === undefined) {
        out.nodes.set(k, n);
        continue;
      }
      const children =
        n.children === undefined
          ? o.children
          : o.children === undefined
            ? n.children
            : n.children.union(o.children);
      out.nodes.set(k, { pe: n.pe, member: n.member || o.member, children });
    }
    for (const [k, o] of other.nodes) if (!this.nodes.has(k)) out.nodes.set(k, o);
    return out;
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    if (this.isEmpty() || other.isEmpty()) return out;
    const [small, large] = this.nodes.size <= other.nodes.size ? [this, other] : [other, this];
    for (const [k, n] of small.nodes) {
      const o = large.nodes.get(k);
      if (o === undefined) continue;
      const member = n.member && o.member;
      let children: FieldSet | undefined;
      if (n.children !== undefined && o.children !== undefined) {
        const c = n.children.intersection(o.children);
        if (!c.isEmpty()) children = c;
      }
      if (member || children !== undefined) out.nodes.set(k, { pe: n.pe, member, children });
    }
    return out;
  }

  /**
   * Paths of this set not in `other`. As upstream, a member of `other` removes only that
   * exact path, never the paths below it.
   */
  difference(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    const out = new FieldSet();
    for (const [k, n] of this.nodes) {
      const o = other.nodes.get(k);
      if (o === undefined) {
        out.nodes.set(k, n);
        continue;
      }
      const member = n.member && !o.member;
      let children = n.children;
      if (children !== undefined && o.children !== undefined) {
        children = children.difference(o.children);
        if (children.isEmpty()) children = undefined;
      }
      if (member || children !== undefined) out.nodes.set(k, { pe: n.pe, member, children });
    }
    return out;
  }

  /** True when both sets hold the same paths. */
  equals(other: FieldSet): boolean {
    if (this.nodes.size !== other.nodes.size) return false;
    for (const [k, n] of this.nodes) {
      const o = other.nodes.get(k);
      if (o === undefined || o.member !== n.member) return false;
      const a = n.children ?? EMPTY;
      const b = o.children ?? EMPTY;
      if (!a.equals(b)) return false;
    }
    return true;
  }

  private sortedNodes(): SetNode[] {
    return this.sortedEntries().map((e) => e[1]);
  }

  private sortedEntries(): Array<[string, SetNode]> {
    const list = [...this.nodes];
    if (list.length > 1) list.sort((a, b) => comparePathElements(a[1].pe, b[1].pe));
    return list;
  }

  /** Visits every path in upstream's order: a level's members first, then its children. */
  iterate(f: (path: Path) => void, prefix: PathElement[] = []): void {
    const sorted = this.sortedNodes();
    for (const n of sorted) if (n.member) f([...prefix, n.pe]);
    for (const n of sorted) {
      if (n.children === undefined) continue;
      prefix.push(n.pe);
      n.children.iterate(f, prefix);
      prefix.pop();
    }
  }

  /** All paths, in upstream's iteration order. */
  paths(): Path[] {
    const out: Path[] = [];
    this.iterate((p) => out.push(p));
    return out;
  }

  /** The fieldsV1 object, keys in upstream's order so its JSON matches byte for byte. */
  toFieldsV1(): FieldsV1 {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): FieldsV1 {
    const out: FieldsV1 = {};
    if (includeSelf) out['.'] = {};
    for (const [key, n] of this.sortedEntries()) {
      out[key] = n.children === undefined ? {} : n.children.emit(n.member);
    }
    return out;
  }

  /** The fieldsV1 JSON text (what a real API server stores in `fieldsV1`). */
  toJSON(): FieldsV1 {
    return this.toFieldsV1();
  }

  /** Parses a fieldsV1 object; throws an Error when it is malformed. */
  static fromFieldsV1(v: unknown): FieldSet {
    const set = new FieldSet();
    readLevel(v, set);
    return set;
  }

  /** A readable multi-line listing of the paths (tests and debugging). */
  toString(): string {
    return this.paths()
      .map((p) => p.map(serializePathElement).join(' '))
      .join('\n');
  }
}

const EMPTY = new FieldSet();

// Decoding managedFields is on every write's path and the same keys recur on every object of
// a kind, so parsed elements (immutable) are shared. Keys are kept as written: a client's
// non-canonical spelling stays a distinct key, exactly as a map keyed by it would.
const PARSED = new Map<string, PathElement>();
const PARSE_CACHE_LIMIT = 50_000;

// Returns whether the level marks its owner as a member: `{}` and `{".":{}}` do.
function readLevel(v: unknown, into: FieldSet): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error('fieldsV1 entries must be JSON objects');
  }
  let member = false;
  let any = false;
  for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
    if (key === '.') {
      member = true;
      continue;
    }
    let pe = PARSED.get(key);
    try {
      if (pe === undefined) {
        pe = parsePathElement(key);
        if (PARSED.size >= PARSE_CACHE_LIMIT) PARSED.clear();
        PARSED.set(key, pe);
      }
    } catch (err) {
      // Unknown element kinds may come from a newer server; upstream drops them silently.
      if (err instanceof Error && err.message === 'unknown path element type') continue;
      throw err;
    }
    any = true;
    const sub = new FieldSet();
    const childMember = readLevel(child, sub);
    if (childMember) into.insertElement(pe, key);
    into.attachChild(pe, sub, key);
  }
  return member || !any;
}
