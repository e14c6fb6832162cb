// The Pod Security Standards checks (upstream staging/src/k8s.io/pod-security-admission/policy):
// each check looks at a pod's metadata and spec and, when it forbids, says why in upstream's
// exact words. Checks run in upstream's order — baseline checks first, then either the
// restricted checks (restricted level) or the baseline checks that a restricted check
// supersedes (baseline level) — because the denial message lists them in that order.
import type { Container, PodSpec } from '../../api/generated/types/core-v1.js';
import type { ObjectMeta } from '../../api/generated/types/meta-v1.js';
import { joinQuote, pluralize, sortStrings } from './attributes.js';

/** A Pod Security Standards level. */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** One check's verdict (upstream CheckResult). */
export interface CheckResult {
  allowed: boolean;
  reason?: string;
  detail?: string;
}

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** A baseline check a restricted check replaces at the restricted level. */
  overlap?: boolean;
  /** First policy minor version (1.x) the check applies to. */
  since: number;
  run(meta: ObjectMeta, spec: PodSpec): CheckResult;
}

const OK: CheckResult = { allowed: true };

function visit(spec: PodSpec, fn: (c: Container) => void): void {
  for (const c of spec.initContainers ?? []) fn(c);
  for (const c of spec.containers ?? []) fn(c);
  for (const c of spec.ephemeralContainers ?? []) fn(c as Container);
}

function containersText(names: string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuotedList(items: string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(' ')}]`;
}

const isWindows = (spec: PodSpec) => spec.os?.name === 'windows';

const CAPABILITIES_ALLOWED = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const SYSCTLS_ALLOWED = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const validSeccomp = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';

// Upstream registers checks in file-name order; that order is the order of the message.
const CHECKS: Check[] = [
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    since: 8,
    run(_m, spec) {
      if (isWindows(spec)) return OK;
      const bad: string[] = [];
      visit(spec, (c) => {
        if (c.securityContext?.allowPrivilegeEscalation !== false) bad.push(c.name);
      });
      if (bad.length === 0) return OK;
      return {
        allowed: false,
        reason: 'allowPrivilegeEscalation != false',
        detail: `${containersText(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      };
    },
  },
  {
    id: 'appArmorProfile',
    level: 'baseline',
    since: 0,
    run(meta, spec) {
      const setters: string[] = [];
      const values = new Set<string>();
      const badType = (t: string | undefined) =>
        t !== undefined && t !== 'RuntimeDefault' && t !== 'Localhost';
      if (badType(spec.securityContext?.appArmorProfile?.type)) {
        setters.push('pod');
        values.add(spec.securityContext?.appArmorProfile?.type ?? '');
      }
      const badContainers: string[] = [];
      visit(spec, (c) => {
        const t = c.securityContext?.appArmorProfile?.type;
        if (badType(t)) {
          badContainers.push(c.name);
          values.add(t ?? '');
        }
      });
      if (badContainers.length > 0) setters.push(containersText(badContainers));
      const annotations: string[] = [];
      for (const [k, v] of Object.entries(meta.annotations ?? {})) {
        if (
          k.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
          !(v === '' || v === 'runtime/default' || v.startsWith('localhost/'))
        ) {
          annotations.push(`${k}=${JSON.stringify(v)}`);
        }
      }
      if (setters.length === 0 && annotations.length === 0) return OK;
      if (setters.length === 0) {
        const list = sortStrings(annotations);
        return {
          allowed: false,
          reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', list.length),
          detail: list.join(', '),
        };
      }
      const all = [...sortStrings(values), ...sortStrings(annotations)];
      return {
        allowed: false,
        reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', all.length),
        detail: `${setters.join(' and ')} must not set securityContext.appArmorProfile.type to ${joinQuote(sortStrings(values))}`,
      };
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    overlap: true,
    since: 0,
    run(_m, spec) {
      const bad: string[] = [];
      const caps = new Set<string>();
      visit(spec, (c) => {
        let valid = true;
        for (const cap of c.securityContext?.capabilities?.add ?? []) {
          if (!CAPABILITIES_ALLOWED.has(cap)) {
            valid = false;
            caps.add(cap);
          }
        }
        if (!valid) bad.push(c.name);
      });
      if (bad.length === 0) return OK;
      return {
        allowed: false,
        reason: 'non-default capabilities',
        detail: `${containersText(bad)} must not include ${joinQuote(sortStrings(caps))} in securityContext.capabilities.add`,
      };
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    since: 22,
    run(_m, spec) {
      if (isWindows(spec)) return OK;
      const missingDrop: string[] = [];
      const adding: string[] = [];
      const caps = new Set<string>();
      visit(spec, (c) => {
        const cs = c.securityContext?.capabilities;
        if (!cs) {
          missingDrop.push(c.name);
          return;
        }
        if (!(cs.drop ?? []).includes('ALL')) missingDrop.push(c.name);
        let addedForbidden = false;
        for (const cap of cs.add ?? []) {
          if (cap !== 'NET_BIND_SERVICE') {
            addedForbidden = true;
            caps.add(cap);
          }
        }
        if (addedForbidden) adding.push(c.name);
      });
      const details: string[] = [];
      if (missingDrop.length > 0)
        details.push(`${containersText(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
      if (adding.length > 0) {
        details.push(
          `${containersText(adding)} must not include ${joinQuote(sortStrings(caps))} in securityContext.capabilities.add`,
        );
      }
      if (details.length === 0) return OK;
      return { allowed: false, reason: 'unrestricted capabilities', detail: details.join('; ') };
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const ns: string[] = [];
      if (spec.hostNetwork) ns.push('hostNetwork');
      if (spec.hostPID) ns.push('hostPID');
      if (spec.hostIPC) ns.push('hostIPC');
      if (ns.length === 0) return OK;
      return {
        allowed: false,
        reason: 'host namespaces',
        detail: sortStrings(ns.map((n) => `${n}=true`)).join(', '),
      };
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const vols = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
      if (vols.length === 0) return OK;
      return {
        allowed: false,
        reason: 'hostPath volumes',
        detail: `${pluralize('volume', 'volumes', vols.length)} ${joinQuote(vols)}`,
      };
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const bad: string[] = [];
      const ports = new Set<string>();
      visit(spec, (c) => {
        let valid = true;
        for (const p of c.ports ?? []) {
          if (p.hostPort !== undefined && p.hostPort !== 0) {
            valid = false;
            ports.add(String(p.hostPort));
          }
        }
        if (!valid) bad.push(c.name);
      });
      if (bad.length === 0) return OK;
      return {
        allowed: false,
        reason: 'hostPort',
        detail: `${containersText(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.size)} ${sortStrings(ports).join(', ')}`,
      };
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const bad: string[] = [];
      visit(spec, (c) => {
        if (c.securityContext?.privileged === true) bad.push(c.name);
      });
      if (bad.length === 0) return OK;
      return {
        allowed: false,
        reason: 'privileged',
        detail: `${containersText(bad)} must not set securityContext.privileged=true`,
      };
    },
  },
  {
    id: 'procMount',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const bad: string[] = [];
      const types = new Set<string>();
      visit(spec, (c) => {
        const pm = c.securityContext?.procMount;
        if (pm !== undefined && pm !== 'Default') {
          bad.push(c.name);
          types.add(pm);
        }
      });
      if (bad.length === 0) return OK;
      return {
        allowed: false,
        reason: 'procMount',
        detail: `${containersText(bad)} must not set securityContext.procMount to ${joinQuote(sortStrings(types))}`,
      };
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    since: 0,
    run(_m, spec) {
      const bad = new Set<string>();
      for (const v of spec.volumes ?? []) {
        if (
          v.configMap ||
          v.csi ||
          v.downwardAPI ||
          v.emptyDir ||
          v.ephemeral ||
          v.persistentVolumeClaim ||
          v.projected ||
          v.secret
        )
          continue;
        bad.add(v.name);
      }
      if (bad.size === 0) return OK;
      return {
        allowed: false,
        reason: 'restricted volume types',
        detail: `volumes ${goQuotedList(sortStrings(bad))} have restricted types`,
      };
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    since: 0,
    run(_m, spec) {
      const setters: string[] = [];
      let podNonRoot = false;
      const p = spec.securityContext?.runAsNonRoot;
      if (p === false) setters.push('pod');
      else if (p === true) podNonRoot = true;
      const explicit: string[] = [];
      const implicit: string[] = [];
      visit(spec, (c) => {
        const v = c.securityContext?.runAsNonRoot;
        if (v !== undefined) {
          if (!v) explicit.push(c.name);
        } else if (!podNonRoot) implicit.push(c.name);
      });
      if (explicit.length > 0) setters.push(containersText(explicit));
      if (setters.length > 0) {
        return {
          allowed: false,
          reason: 'runAsNonRoot != true',
          detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
        };
      }
      if (implicit.length > 0) {
        return {
          allowed: false,
          reason: 'runAsNonRoot != true',
          detail: `pod or ${containersText(implicit)} must set securityContext.runAsNonRoot=true`,
        };
      }
      return OK;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    since: 23,
    run(_m, spec) {
      const setters: string[] = [];
      if (spec.securityContext?.runAsUser === 0) setters.push('pod');
      const bad: string[] = [];
      visit(spec, (c) => {
        if (c.securityContext?.runAsUser === 0) bad.push(c.name);
      });
      if (bad.length > 0) setters.push(containersText(bad));
      if (setters.length === 0) return OK;
      return {
        allowed: false,
        reason: 'runAsUser=0',
        detail: `${setters.join(' and ')} must not set runAsUser=0`,
      };
    },
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const setters: string[] = [];
      const badTypes = new Set<string>();
      let setUser = false;
      let setRole = false;
      const valid = (o: { type?: string; user?: string; role?: string }) => {
        let ok = true;
        if (!SELINUX_TYPES.has(o.type ?? '')) {
          ok = false;
          badTypes.add(o.type ?? '');
        }
        if (o.user) {
          ok = false;
          setUser = true;
        }
        if (o.role) {
          ok = false;
          setRole = true;
        }
        return ok;
      };
      const po = spec.securityContext?.seLinuxOptions;
      if (po && !valid(po)) setters.push('pod');
      const bad: string[] = [];
      visit(spec, (c) => {
        const o = c.securityContext?.seLinuxOptions;
        if (o && !valid(o)) bad.push(c.name);
      });
      if (bad.length > 0) setters.push(containersText(bad));
      if (setters.length === 0) return OK;
      const data: string[] = [];
      if (badTypes.size > 0) {
        data.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sortStrings(badTypes))}`);
        if (setUser) data.push('user may not be set');
        if (setRole) data.push('role may not be set');
      }
      return {
        allowed: false,
        reason: 'seLinuxOptions',
        detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
      };
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    overlap: true,
    since: 0,
    run(meta, spec) {
      // Policies before 1.19 judged the seccomp annotations; later ones judge the fields.
      const setters: string[] = [];
      const values = new Set<string>();
      const pt = spec.securityContext?.seccompProfile?.type;
      if (spec.securityContext?.seccompProfile && !validSeccomp(pt)) {
        setters.push('pod');
        values.add(pt ?? '');
      }
      const bad: string[] = [];
      visit(spec, (c) => {
        const sp = c.securityContext?.seccompProfile;
        if (sp && !validSeccomp(sp.type)) {
          bad.push(c.name);
          values.add(sp.type ?? '');
        }
      });
      if (bad.length > 0) setters.push(containersText(bad));
      void meta;
      if (setters.length === 0) return OK;
      return {
        allowed: false,
        reason: 'seccompProfile',
        detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortStrings(values))}`,
      };
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    since: 19,
    run(_m, spec) {
      if (isWindows(spec)) return OK;
      const setters: string[] = [];
      const values = new Set<string>();
      let podSet = false;
      const ps = spec.securityContext?.seccompProfile;
      if (ps) {
        if (!validSeccomp(ps.type)) {
          setters.push('pod');
          values.add(ps.type ?? '');
        } else podSet = true;
      }
      const explicit: string[] = [];
      const implicit: string[] = [];
      visit(spec, (c) => {
        const sp = c.securityContext?.seccompProfile;
        if (sp) {
          if (!validSeccomp(sp.type)) {
            explicit.push(c.name);
            values.add(sp.type ?? '');
          }
        } else if (!podSet) implicit.push(c.name);
      });
      if (explicit.length > 0) setters.push(containersText(explicit));
      if (setters.length > 0) {
        return {
          allowed: false,
          reason: 'seccompProfile',
          detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortStrings(values))}`,
        };
      }
      if (implicit.length > 0) {
        return {
          allowed: false,
          reason: 'seccompProfile',
          detail: `pod or ${containersText(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
        };
      }
      return OK;
    },
  },
  {
    id: 'sysctls',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const bad = (spec.securityContext?.sysctls ?? [])
        .map((s) => s.name)
        .filter((n) => !SYSCTLS_ALLOWED.has(n));
      if (bad.length === 0) return OK;
      return { allowed: false, reason: 'forbidden sysctls', detail: bad.join(', ') };
    },
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    since: 0,
    run(_m, spec) {
      const setters: string[] = [];
      if (spec.securityContext?.windowsOptions?.hostProcess === true) setters.push('pod');
      const bad: string[] = [];
      visit(spec, (c) => {
        if (c.securityContext?.windowsOptions?.hostProcess === true) bad.push(c.name);
      });
      if (bad.length > 0) setters.push(containersText(bad));
      if (setters.length === 0) return OK;
      return {
        allowed: false,
        reason: 'hostProcess',
        detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
      };
    },
  },
];

// The legacy seccomp annotations are judged only by policies older than 1.19.
function seccompAnnotations(meta: ObjectMeta, spec: PodSpec): CheckResult {
  const a = meta.annotations ?? {};
  const ok = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
  const bad = new Set<string>();
  const pv = a[SECCOMP_POD_ANNOTATION];
  if (pv !== undefined && !ok(pv)) bad.add(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(pv)}`);
  visit(spec, (c) => {
    const key = SECCOMP_CONTAINER_PREFIX + c.name;
    const v = a[key];
    if (v !== undefined && !ok(v)) bad.add(`${key}=${JSON.stringify(v)}`);
  });
  if (bad.size === 0) return OK;
  return {
    allowed: false,
    reason: 'seccompProfile',
    detail: `forbidden ${pluralize('annotation', 'annotations', bad.size)} ${sortStrings(bad).join(', ')}`,
  };
}

/** A level at a policy version (`latest` is minor Infinity). */
export interface LevelVersion {
  level: PodSecurityLevel;
  /** Minor version of 1.x, or Infinity for latest. */
  minor: number;
}

/** `restricted:latest`, `baseline:v1.25` — as upstream prints a policy. */
export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${lv.minor === Number.POSITIVE_INFINITY ? 'latest' : `v1.${lv.minor}`}`;
}

function runCheck(c: Check, lv: LevelVersion, meta: ObjectMeta, spec: PodSpec): CheckResult {
  if (c.since > lv.minor) return OK;
  if (c.id === 'seccompProfile_baseline' && lv.minor < 19) return seccompAnnotations(meta, spec);
  return c.run(meta, spec);
}

/** Runs the checks of a level in upstream order and returns the forbidding results. */
export function checkPod(lv: LevelVersion, meta: ObjectMeta, spec: PodSpec): CheckResult[] {
  if (lv.level === 'privileged') return [];
  const out: CheckResult[] = [];
  const add = (r: CheckResult) => {
    if (!r.allowed) out.push(r);
  };
  for (const c of CHECKS) if (c.level === 'baseline' && !c.overlap) add(runCheck(c, lv, meta, spec));
  if (lv.level === 'baseline') {
    for (const c of CHECKS) if (c.level === 'baseline' && c.overlap) add(runCheck(c, lv, meta, spec));
  } else {
    for (const c of CHECKS) if (c.level === 'restricted') add(runCheck(c, lv, meta, spec));
  }
  return out;
}

/** `reason (detail), reason, …` — upstream's AggregateCheckResult.ForbiddenDetail. */
export function forbiddenDetail(results: CheckResult[]): string {
  return results
    .map((r) =>
      r.detail
        ? `${r.reason ?? 'unknown forbidden reason'} (${r.detail})`
        : (r.reason ?? 'unknown forbidden reason'),
    )
    .join(', ');
}

/** `reason, reason` — upstream's AggregateCheckResult.ForbiddenReason. */
export function forbiddenReason(results: CheckResult[]): string {
  return results.map((r) => r.reason ?? 'unknown forbidden reason').join(', ');
}
