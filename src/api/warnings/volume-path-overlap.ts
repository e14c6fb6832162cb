// Warnings for volume items that write to the same file, or to a file and a directory
// beneath it (upstream's warningsForOverlappingVirtualPaths in pkg/api/pod/warnings.go):
// the kubelet then fails with `is a directory` / `file exists`, or one key silently wins.
// Upstream's quirks are kept on purpose, since clients see these texts verbatim: the prefix
// test does not stop at a path separator (`test` overlaps `tester`), and a projected source
// with no items reuses the paths of the source before it.
import type {
  DownwardAPIVolumeFile,
  KeyToPath,
  Volume,
  VolumeProjection,
} from '../generated/types/core-v1.js';
import { goQuote } from '../../machinery/go-format.js';

const SEP = '/';

function trimTrailingSeparators(p: string): string {
  let end = p.length;
  while (end > 0 && p[end - 1] === SEP) end--;
  return p.slice(0, end);
}

// The first earlier path `path` collides with; an empty path on either side stops the search.
function overlapWith(earlier: Iterable<string>, path: string): string {
  for (const item of earlier) {
    if (item === '' || path === '') return '';
    if (item === path) return item;
    if ((item + SEP).startsWith(path)) return item;
    if ((path + SEP).startsWith(item)) return item;
  }
  return '';
}

/** One warning per path that collides with a path listed before it. */
export function volumeMappingOverlaps(paths: string[], message: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of paths) {
    const p = trimTrailingSeparators(raw);
    const hit = overlapWith(seen, p);
    if (hit !== '') out.push(`${message}: ${goQuote(p)} with ${goQuote(hit)}`);
    seen.add(p);
  }
  return out;
}

function itemPaths(items: Array<KeyToPath | DownwardAPIVolumeFile>): string[] {
  return items.map((i) => i.path);
}

// Mirrors Go's `source == (api.VolumeProjection{})`: no source type set at all.
function isEmptyProjection(s: VolumeProjection): boolean {
  return Object.values(s).every((v) => v === undefined || v === null);
}

function projectedWarnings(v: Volume): string[] {
  const out: string[] = [];
  const name = goQuote(v.name);
  let sourcePaths: string[] = [];
  let message = '';
  const allPaths = new Set<string>();
  for (const source of v.projected?.sources ?? []) {
    if (isEmptyProjection(source)) {
      out.push(`volume ${name} (Projected) has no sources provided`);
      continue;
    }
    if (source.configMap?.items != null) {
      sourcePaths = itemPaths(source.configMap.items);
      message = `volume ${name} (Projected ConfigMap ${goQuote(source.configMap.name ?? '')}): overlapping paths`;
    } else if (source.secret?.items != null) {
      sourcePaths = itemPaths(source.secret.items);
      message = `volume ${name} (Projected Secret ${goQuote(source.secret.name ?? '')}): overlapping paths`;
    } else if (source.downwardAPI?.items != null) {
      sourcePaths = itemPaths(source.downwardAPI.items);
      message = `volume ${name} (Projected DownwardAPI): overlapping paths`;
    } else if (source.serviceAccountToken != null) {
      sourcePaths = [source.serviceAccountToken.path];
      message = `volume ${name} (Projected ServiceAccountToken): overlapping paths`;
    } else if (source.clusterTrustBundle != null) {
      const ctb = source.clusterTrustBundle;
      sourcePaths = [ctb.path];
      message = `volume ${name} (Projected ClusterTrustBundle ${goQuote(ctb.name ?? ctb.signerName ?? '')}): overlapping paths`;
    }
    if (sourcePaths.length === 0) continue;
    out.push(...volumeMappingOverlaps(sourcePaths, message));
    // Against every earlier source too, in sorted order so the result does not depend on
    // the order the sources happen to be listed in.
    const unique = [...new Set(sourcePaths)];
    const ordered = [...unique, ...allPaths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    out.push(...volumeMappingOverlaps(ordered, message));
    for (const p of unique) allPaths.add(p);
  }
  return out;
}

/** Overlapping item paths within each configMap, secret, downwardAPI and projected volume. */
export function overlappingVolumePathWarnings(volumes: Volume[]): string[] {
  const out: string[] = [];
  for (const v of volumes) {
    const name = goQuote(v.name);
    if (v.configMap?.items != null) {
      out.push(
        ...volumeMappingOverlaps(
          itemPaths(v.configMap.items),
          `volume ${name} (ConfigMap ${goQuote(v.configMap.name ?? '')}): overlapping paths`,
        ),
      );
    }
    if (v.secret?.items != null) {
      out.push(
        ...volumeMappingOverlaps(
          itemPaths(v.secret.items),
          `volume ${name} (Secret ${goQuote(v.secret.secretName ?? '')}): overlapping paths`,
        ),
      );
    }
    if (v.downwardAPI?.items != null) {
      out.push(
        ...volumeMappingOverlaps(
          itemPaths(v.downwardAPI.items),
          `volume ${name} (DownwardAPI): overlapping paths`,
        ),
      );
    }
    if (v.projected != null) out.push(...projectedWarnings(v));
  }
  return out;
}
