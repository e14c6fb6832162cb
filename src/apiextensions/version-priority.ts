// Upstream's kube-aware version ordering (apimachinery's version.CompareKubeAwareVersionStrings),
// which decides the order of a custom group's versions in discovery and so its preferred
// version: GA before beta before alpha before anything else; within a kind the higher
// major wins, then the higher minor; names that are not Kubernetes-like sort by name.

interface Parsed {
  /** 3 = GA, 2 = beta, 1 = alpha, 0 = not a Kubernetes version. */
  level: number;
  major: number;
  minor: number;
}

const KUBE_VERSION = /^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$/;

function parse(v: string): Parsed {
  const m = KUBE_VERSION.exec(v);
  if (!m) return { level: 0, major: 0, minor: 0 };
  const major = Number(m[1]);
  if (m[2] === undefined) return { level: 3, major, minor: 0 };
  return { level: m[2] === 'beta' ? 2 : 1, major, minor: Number(m[3]) };
}

/** Sort comparator: negative when `a` has the higher priority (so `sort` puts it first). */
export function compareKubeVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa.level !== pb.level) return pb.level - pa.level;
  if (pa.level === 0) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.major !== pb.major) return pb.major - pa.major;
  return pb.minor - pa.minor;
}
