// Validation of the containers of a pod spec (upstream pkg/apis/core/validation:
// validateContainerCommon, validateContainerPorts, ValidateEnv, ValidateVolumeMounts,
// validatePullPolicy, ValidateResourceRequirements, probes and lifecycle handlers). Paths
// and messages are upstream's; the order of checks follows upstream so error lists compare.
import type { Quantity } from '../../machinery/quantity.js';
import type { FieldError } from '../../machinery/status-error.js';
import { isValidPortNum } from '../../machinery/validation/names.js';
import type {
  Container,
  EnvVar,
  HTTPGetAction,
  LifecycleHandler,
  Probe,
  ResourceRequirements,
  VolumeMount,
} from '../generated/types/core-v1.js';
import {
  cachedQuantity,
  duplicate,
  forbidden,
  invalidEach,
  invalidValue,
  listOf,
  nonNegative,
  notFound,
  notSupported,
  required,
} from './field.js';
import { memoDNS1123Label, memoPortName, memoRelaxedEnvVarName } from './memo.js';

/** Port protocols upstream accepts, sorted as its error lists them. */
export const SUPPORTED_PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

/** Which list a container belongs to; rules differ slightly between them. */
export type ContainerRole = 'regular' | 'init' | 'ephemeral';

/** Validates one container at path (e.g. `spec.containers[0]`); volumes are the pod's names. */
export function validateContainerCommon(
  c: Container,
  volumes: ReadonlySet<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const name = c.name ?? '';
  if (name === '') errs.push(required(`${path}.name`));
  else errs.push(...invalidEach(`${path}.name`, name, memoDNS1123Label(name)));
  if ((c.image ?? '') === '') errs.push(required(`${path}.image`));
  const tmp = c.terminationMessagePolicy ?? '';
  if (tmp === '') {
    errs.push(required(`${path}.terminationMessagePolicy`, "must be 'File' or 'FallbackToLogsOnError'"));
  } else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') {
    errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validateContainerPorts(c, `${path}.ports`));
  errs.push(...validateEnv(listOf(c.env), `${path}.env`));
  errs.push(...validateVolumeMounts(listOf(c.volumeMounts), volumes, `${path}.volumeMounts`));
  errs.push(...validatePullPolicy(c.imagePullPolicy ?? '', `${path}.imagePullPolicy`));
  errs.push(...validateResourceRequirements(c.resources, `${path}.resources`));
  return errs;
}

function validateContainerPorts(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ports = listOf(c.ports);
  if (ports.length === 0) return errs;
  const names = new Set<string>();
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i] as (typeof ports)[number];
    const name = p.name ?? '';
    if (name !== '') {
      const msgs = memoPortName(name);
      if (msgs.length > 0) errs.push(...invalidEach(`${path}[${i}].name`, name, msgs));
      else if (names.has(name)) errs.push(duplicate(`${path}[${i}].name`, name));
      else names.add(name);
    }
    const cp = p.containerPort ?? 0;
    if (cp === 0) errs.push(required(`${path}[${i}].containerPort`));
    else if (!isPortNum(cp)) errs.push(...invalidEach(`${path}[${i}].containerPort`, cp, isValidPortNum(cp)));
    const hp = p.hostPort ?? 0;
    if (hp !== 0 && !isPortNum(hp))
      errs.push(...invalidEach(`${path}[${i}].hostPort`, hp, isValidPortNum(hp)));
    const proto = p.protocol ?? '';
    if (proto === '') errs.push(required(`${path}[${i}].protocol`));
    else if (!(SUPPORTED_PORT_PROTOCOLS as readonly string[]).includes(proto)) {
      errs.push(notSupported(`${path}[${i}].protocol`, proto, SUPPORTED_PORT_PROTOCOLS));
    }
  }
  return errs;
}

// isValidPortNum's accepting case, without building its (empty) message list.
function isPortNum(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

const VALUE_FROM_KINDS = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const;
const KEY_REF_KINDS = ['configMapKeyRef', 'secretKeyRef'] as const;

// RelaxedEnvironmentVariableValidation is beta and on in 1.32: any printable ASCII but '='.
// Paths are built only for errors: this runs for every env var of every container written.
function validateEnv(vars: readonly EnvVar[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (let i = 0; i < vars.length; i++) {
    const ev = vars[i] as EnvVar;
    const name = ev.name ?? '';
    if (name === '') errs.push(required(`${path}[${i}].name`));
    else {
      const msgs = memoRelaxedEnvVarName(name);
      if (msgs.length > 0) errs.push(...invalidEach(`${path}[${i}].name`, name, msgs));
    }
    const from = ev.valueFrom;
    if (from == null) continue;
    let n = 0;
    for (const k of VALUE_FROM_KINDS) {
      if (from[k] != null) n++;
    }
    if (n === 0) {
      errs.push(
        invalidValue(
          `${path}[${i}].valueFrom`,
          '',
          'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
        ),
      );
    } else if (n > 1) {
      errs.push(
        invalidValue(`${path}[${i}].valueFrom`, '', 'may not have more than one field specified at a time'),
      );
    }
    if ((ev.value ?? '') !== '' && n !== 0) {
      errs.push(
        invalidValue(`${path}[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'),
      );
    }
    for (const k of KEY_REF_KINDS) {
      const ref = from[k];
      if (ref == null) continue;
      if ((ref.key ?? '') === '') errs.push(required(`${path}[${i}].valueFrom.${k}.key`));
      if ((ref.name ?? '') === '') errs.push(required(`${path}[${i}].valueFrom.${k}.name`));
    }
    if (from.fieldRef != null && (from.fieldRef.fieldPath ?? '') === '') {
      errs.push(required(`${path}[${i}].valueFrom.fieldRef.fieldPath`));
    }
  }
  return errs;
}

function validateVolumeMounts(
  mounts: readonly VolumeMount[],
  volumes: ReadonlySet<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (mounts.length === 0) return errs;
  const points = new Set<string>();
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i] as VolumeMount;
    const name = m.name ?? '';
    if (name === '') errs.push(required(`${path}[${i}].name`));
    if (!volumes.has(name)) errs.push(notFound(`${path}[${i}].name`, name));
    const mp = m.mountPath ?? '';
    if (mp === '') errs.push(required(`${path}[${i}].mountPath`));
    if (points.has(mp)) errs.push(invalidValue(`${path}[${i}].mountPath`, mp, 'must be unique'));
    points.add(mp);
  }
  return errs;
}

function validatePullPolicy(policy: string, path: string): FieldError[] {
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return [];
  if (policy === '') return [required(path)];
  return [notSupported(path, policy, ['Always', 'IfNotPresent', 'Never'])];
}

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

function isOvercommitAllowed(name: string): boolean {
  // Native resources other than hugepages may be overcommitted; extended resources may not.
  if (name.startsWith('hugepages-')) return false;
  return !name.includes('/') || name.startsWith('kubernetes.io/') || name.endsWith('.kubernetes.io/');
}

// Structural validation has already rejected unparsable quantities.
function quantityOf(v: unknown): Quantity | undefined {
  const q =
    typeof v === 'string' ? cachedQuantity(v.trim()) : typeof v === 'number' ? cachedQuantity(String(v)) : '';
  return typeof q === 'string' ? undefined : q;
}

function checkResource(errs: FieldError[], name: string, value: unknown, base: string): Quantity | undefined {
  if (!STANDARD_CONTAINER_RESOURCES.has(name) && !name.includes('/') && !name.startsWith('hugepages-')) {
    errs.push(invalidValue(`${base}[${name}]`, name, 'must be a standard resource for containers'));
  }
  const q = quantityOf(value);
  if (q !== undefined && q.sign() < 0) {
    errs.push(invalidValue(`${base}[${name}]`, q.toString(), 'must be greater than or equal to 0'));
  }
  return q;
}

const cmpCache = new Map<Quantity, Map<Quantity, number>>();

// Quantities come from the bounded cachedQuantity memo, so the same request/limit pair is the
// same two objects on every write; comparing them is bigint work worth remembering.
function cachedCmp(a: Quantity, b: Quantity): number {
  let row = cmpCache.get(a);
  if (row === undefined) {
    if (cmpCache.size >= 1024) cmpCache.clear();
    row = new Map();
    cmpCache.set(a, row);
  }
  let c = row.get(b);
  if (c === undefined) {
    c = a.cmp(b);
    if (row.size < 64) row.set(b, c);
  }
  return c;
}

/** ValidateResourceRequirements for a container at path (`…resources`). */
export function validateResourceRequirements(
  r: ResourceRequirements | undefined | null,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (r == null) return errs;
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = r.limits ?? {};
  const requests = r.requests ?? {};
  for (const name in limits) checkResource(errs, name, limits[name], limPath);
  for (const name in requests) {
    const q = checkResource(errs, name, requests[name], reqPath);
    if (name in limits) {
      const lim = quantityOf(limits[name]);
      if (q === undefined || lim === undefined) continue;
      const c = cachedCmp(q, lim);
      if (c !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalidValue(reqPath, q.toString(), `must be equal to ${name} limit of ${lim.toString()}`));
      } else if (c > 0) {
        errs.push(
          invalidValue(
            reqPath,
            q.toString(),
            `must be less than or equal to ${name} limit of ${lim.toString()}`,
          ),
        );
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return invalidEach(path, port, isValidPortNum(port));
  if (typeof port === 'string') return invalidEach(path, port, memoPortName(port));
  return [required(path)];
}

function validateHTTPGet(h: HTTPGetAction, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((h.path ?? '') === '') errs.push(required(`${path}.path`));
  errs.push(...validatePortNumOrName(h.port, `${path}.port`));
  const scheme = h.scheme ?? '';
  if (scheme !== 'HTTP' && scheme !== 'HTTPS')
    errs.push(notSupported(`${path}.scheme`, scheme, ['HTTP', 'HTTPS']));
  return errs;
}

const HANDLER_KINDS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const;

function validateHandlerAction(
  h: Probe & LifecycleHandler,
  kind: (typeof HANDLER_KINDS)[number],
  path: string,
): FieldError[] {
  switch (kind) {
    case 'exec':
      return listOf(h.exec?.command).length === 0 ? [required(`${path}.exec.command`)] : [];
    case 'httpGet':
      return validateHTTPGet(h.httpGet as HTTPGetAction, `${path}.httpGet`);
    case 'tcpSocket':
      return validatePortNumOrName(h.tcpSocket?.port, `${path}.tcpSocket.port`);
    case 'grpc':
      return invalidEach(`${path}.grpc.port`, h.grpc?.port ?? 0, isValidPortNum(h.grpc?.port ?? 0));
    case 'sleep':
      return nonNegative(h.sleep?.seconds, `${path}.sleep.seconds`);
  }
}

/** validateHandler: exactly one action of a probe or lifecycle hook. */
function validateHandler(h: Probe | LifecycleHandler, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const any = h as Probe & LifecycleHandler;
  let n = 0;
  for (const kind of HANDLER_KINDS) {
    if (any[kind] == null) continue;
    if (n > 0) {
      errs.push(forbidden(`${path}.${kind}`, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    const e = validateHandlerAction(any, kind, path);
    if (e.length > 0) errs.push(...e);
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

/** validateProbe plus the per-kind rules (liveness and startup need successThreshold 1). */
export function validateProbe(
  p: Probe | undefined | null,
  kind: 'liveness' | 'readiness' | 'startup',
  path: string,
): FieldError[] {
  if (p == null) return [];
  const errs = validateHandler(p, path);
  errs.push(...nonNegative(p.initialDelaySeconds, `${path}.initialDelaySeconds`));
  errs.push(...nonNegative(p.timeoutSeconds, `${path}.timeoutSeconds`));
  errs.push(...nonNegative(p.periodSeconds, `${path}.periodSeconds`));
  errs.push(...nonNegative(p.successThreshold, `${path}.successThreshold`));
  errs.push(...nonNegative(p.failureThreshold, `${path}.failureThreshold`));
  if (p.terminationGracePeriodSeconds != null && p.terminationGracePeriodSeconds <= 0) {
    errs.push(
      invalidValue(
        `${path}.terminationGracePeriodSeconds`,
        p.terminationGracePeriodSeconds,
        'must be greater than 0',
      ),
    );
  }
  if (kind === 'readiness') {
    if (p.terminationGracePeriodSeconds != null) {
      errs.push(
        invalidValue(
          `${path}.terminationGracePeriodSeconds`,
          p.terminationGracePeriodSeconds,
          'must not be set for readinessProbes',
        ),
      );
    }
  } else if ((p.successThreshold ?? 1) !== 1) {
    errs.push(invalidValue(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  }
  return errs;
}

/** Lifecycle hooks, probes and restartPolicy rules by the container's role. */
export function validateContainerRoleRules(c: Container, role: ContainerRole, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const sidecar = role === 'init' && c.restartPolicy === 'Always';
  if (role === 'regular' || sidecar) {
    const lc = c.lifecycle;
    if (lc != null) {
      if (lc.postStart != null) errs.push(...validateHandler(lc.postStart, `${path}.lifecycle.postStart`));
      if (lc.preStop != null) errs.push(...validateHandler(lc.preStop, `${path}.lifecycle.preStop`));
    }
    errs.push(...validateProbe(c.livenessProbe, 'liveness', `${path}.livenessProbe`));
    errs.push(...validateProbe(c.readinessProbe, 'readiness', `${path}.readinessProbe`));
    errs.push(...validateProbe(c.startupProbe, 'startup', `${path}.startupProbe`));
  } else {
    const what =
      role === 'init'
        ? 'may not be set for init containers without restartPolicy=Always'
        : 'cannot be set for an Ephemeral Container';
    for (const k of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (c[k] != null) errs.push(forbidden(`${path}.${k}`, what));
    }
  }
  if (role === 'regular' && c.restartPolicy != null) {
    errs.push(forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
  } else if (role === 'init' && c.restartPolicy != null && c.restartPolicy !== 'Always') {
    errs.push(notSupported(`${path}.restartPolicy`, c.restartPolicy, ['Always']));
  }
  return errs;
}
