// /version. kubectl's dispatcher on these machines picks its client version from
// `major`/`minor`, so kts reports the Kubernetes API level it implements (1.32).

/** version.Info as served at /version. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** The Kubernetes API level kts implements. */
export const KUBE_VERSION = { major: '1', minor: '32', patch: '4' } as const;

/** The kts release, appended to gitVersion. */
export const KTS_VERSION = '0.1.0';

/** The /version document. */
export function versionInfo(): VersionInfo {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: `v${KUBE_VERSION.major}.${KUBE_VERSION.minor}.${KUBE_VERSION.patch}-kts.${KTS_VERSION}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${arch}`,
  };
}
