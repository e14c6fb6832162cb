// Validation of the containers of a pod spec (upstream pkg/apis/core/validation:
// validateContainerCommon, validateContainerPorts, ValidateEnv, ValidateVolumeMounts,
// validatePullPolicy, ValidateResourceRequirements, probes and lifecycle handlers). Paths
// and messages are upstream's; the order of checks follows upstream so error lists compare.
import type { Quantity } from '../../machinery/quantity.js';
import type { FieldError } from '../../machinery/status-error.js';
import {
  isDNS1123Label,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
} from '../../machinery/validation/names.js';
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
  else errs.push(...invalidEach(`${path}.name`, name, isDNS1123Label(name)));
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
  const names = new Set<string>();
  listOf(c.ports).forEach((p, i) => {
    const idx = `${path}[${i}]`;
    const name = p.name ?? '';
    if (name !== '') {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) errs.push(...invalidEach(`${idx}.name`, name, msgs));
      else if (names.has(name)) errs.push(duplicate(`${idx}.name`, name));
      else names.add(name);
    }
    const cp = p.containerPort ?? 0;
    if (cp === 0) errs.push(required(`${idx}.containerPort`));
    else errs.push(...invalidEach(`${idx}.containerPort`, cp, isValidPortNum(cp)));
    const hp = p.hostPort ?? 0;
    if (hp !== 0) errs.push(...invalidEach(`${idx}.hostPort`, hp, isValidPortNum(hp)));
    const proto = p.protocol ?? '';
    if (proto === '') errs.push(required(`${idx}.protocol`));
    else if (!(SUPPORTED_PORT_PROTOCOLS as readonly string[]).includes(proto)) {
      errs.push(notSupported(`${idx}.protocol`, proto, SUPPORTED_PORT_PROTOCOLS));
    }
  });
  return errs;
}

// RelaxedEnvironmentVariableValidation is beta and on in 1.32: any printable ASCII but '='.
function validateEnv(vars: readonly EnvVar[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  vars.forEach((ev, i) => {
    const idx = `${path}[${i}]`;
    const name = ev.name ?? '';
    if (name === '') errs.push(required(`${idx}.name`));
    else errs.push(...invalidEach(`${idx}.name`, name, isRelaxedEnvVarName(name)));
    const from = ev.valueFrom;
    if (from == null) return;
    const fromPath = `${idx}.valueFrom`;
    let n = 0;
    for (const k of ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const) {
      if (from[k] != null) n++;
    }
    if (n === 0) {
      errs.push(
        invalidValue(
          fromPath,
          '',
          'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
        ),
      );
    } else if (n > 1) {
      errs.push(invalidValue(fromPath, '', 'may not have more than one field specified at a time'));
    }
    if ((ev.value ?? '') !== '' && n !== 0) {
      errs.push(invalidValue(fromPath, '', 'may not be specified when `value` is not empty'));
    }
    for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = from[k];
      if (ref == null) continue;
      if ((ref.key ?? '') === '') errs.push(required(`${fromPath}.${k}.key`));
      if ((ref.name ?? '') === '') errs.push(required(`${fromPath}.${k}.name`));
    }
    if (from.fieldRef != null && (from.fieldRef.fieldPath ?? '') === '') {
      errs.push(required(`${fromPath}.fieldRef.fieldPath`));
    }
  });
  return errs;
}

function validateVolumeMounts(
  mounts: readonly VolumeMount[],
  volumes: ReadonlySet<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const points = new Set<string>();
  mounts.forEach((m, i) => {
    const idx = `${path}[${i}]`;
    const name = m.name ?? '';
    if (name === '') errs.push(required(`${idx}.name`));
    if (!volumes.has(name)) errs.push(notFound(`${idx}.name`, name));
    const mp = m.mountPath ?? '';
    if (mp === '') errs.push(required(`${idx}.mountPath`));
    if (points.has(mp)) errs.push(invalidValue(`${idx}.mountPath`, mp, 'must be unique'));
    points.add(mp);
  });
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
      const c = q.cmp(lim);
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
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
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
