// The structural-schema rules a CRD version's openAPIV3Schema must satisfy (upstream's
// schema.ValidateStructural: invariants and completeness), and the check that every
// `default` is pruned, well-typed and valid (defaulting.ValidateDefaults). The structural
// tree is the schema reached through properties/items/additionalProperties; allOf, anyOf,
// oneOf and not hold value validations only ("nested" nodes), which may not carry types,
// defaults, descriptions or extensions, and may only mention fields the structure declares.
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import type { FieldError } from '../../machinery/status-error.js';
import { compileSchema, deepEqualJSON } from './compile.js';
import { coerceEmbedded, pruneUnknown } from './prune.js';
import { compileGoRegexp } from './regex.js';
import { validateEmbeddedResources } from './structural-checks.js';
import { validateAgainstSchema } from './value-validation.js';

type Level = 'root' | 'item' | 'field';

const req = (field: string, detail: string): FieldError => ({ type: 'FieldValueRequired', field, detail });
const forb = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
const inv = (field: string, badValue: unknown, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  badValue,
  detail,
});

/** field.Path.Key: `properties[name]`. */
export function keyed(path: string, child: string, key: string): string {
  return `${path}.${child}[${key}]`;
}

function itemsSchema(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return s.items !== undefined && !Array.isArray(s.items) ? s.items : undefined;
}

function additionalSchema(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/**
 * The error NewStructural returns for a schema it cannot represent (first one found), or
 * undefined. Upstream reports it only when nothing else is wrong.
 */
export function structuralInitError(s: JSONSchemaProps): string | undefined {
  if ((s.id ?? '') !== '') return "OpenAPIV3Schema 'id' is not supported";
  if ((s.$schema ?? '') !== '') return "OpenAPIV3Schema 'schema' is not supported";
  if ((s.$ref ?? '') !== '') return "OpenAPIV3Schema '$ref' is not supported";
  if (s.patternProperties !== undefined && Object.keys(s.patternProperties).length > 0)
    return "OpenAPIV3Schema 'patternProperties' is not supported";
  if (s.dependencies !== undefined && Object.keys(s.dependencies).length > 0)
    return "OpenAPIV3Schema 'dependencies' is not supported";
  if (s.additionalItems !== undefined) return "OpenAPIV3Schema 'additionalItems' is not supported";
  if (s.definitions !== undefined && Object.keys(s.definitions).length > 0)
    return "OpenAPIV3Schema 'definitions' is not supported";
  for (const sub of [s.not, ...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
    if (sub === undefined) continue;
    const e = structuralInitError(sub);
    if (e !== undefined) return e;
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false)
    return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined";
  if (Array.isArray(s.items)) {
    if (s.items.length > 0) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
  } else if (s.items !== undefined) {
    const e = structuralInitError(s.items);
    if (e !== undefined) return e;
  }
  for (const p of Object.values(s.properties ?? {})) {
    const e = structuralInitError(p);
    if (e !== undefined) return e;
  }
  const ap = additionalSchema(s);
  return ap === undefined ? undefined : structuralInitError(ap);
}

/** schema.ValidateStructural: invariants of the structural tree plus completeness, sorted by message. */
export function validateStructural(s: JSONSchemaProps, path: string): FieldError[] {
  const errs = [...invariants(s, 'root', path), ...completeness(s, s, path, path)];
  return errs.sort((a, b) => {
    const x = `${a.field}: ${a.type}: ${a.detail ?? ''}`;
    const y = `${b.field}: ${b.type}: ${b.detail ?? ''}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function onlyType(s: JSONSchemaProps, type: string): boolean {
  return Object.keys(s).length === 1 && s.type === type;
}

// anyOf: [{type: integer}, {type: string}], the spelling upstream tolerates for IntOrString.
function isIntOrStringAnyOf(s: JSONSchemaProps | undefined): boolean {
  const a = s?.anyOf;
  return a !== undefined && a.length === 2 && onlyType(a[0]!, 'integer') && onlyType(a[1]!, 'string');
}

function invariants(s: JSONSchemaProps, lvl: Level, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = s.type ?? '';
  const items = itemsSchema(s);
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (type === 'array' && items === undefined) errs.push(req(`${path}.items`, 'must be specified'));
  if (items !== undefined) errs.push(...invariants(items, 'item', `${path}.items`));
  for (const [k, v] of Object.entries(s.properties ?? {}))
    errs.push(...invariants(v, 'field', keyed(path, 'properties', k)));
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root') errs.push(forb(`${path}.additionalProperties`, 'must not be used at the root'));
    const ap = additionalSchema(s);
    if (ap !== undefined) errs.push(...invariants(ap, 'field', `${path}.additionalProperties`));
  }
  if (intOrString && preserve) {
    errs.push(
      inv(
        `${path}.x-kubernetes-preserve-unknown-fields`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  if (intOrString && embedded) {
    errs.push(
      inv(
        `${path}.x-kubernetes-embedded-resource`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  const skipAnyOf = isIntOrStringAnyOf(s);
  const skipFirstAllOfAnyOf = isIntOrStringAnyOf(s.allOf?.[0]);
  errs.push(...valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, lvl, path));
  if (embedded && type !== 'object') {
    const msg = 'must be object if x-kubernetes-embedded-resource is true';
    errs.push(type === '' ? req(`${path}.type`, msg) : inv(`${path}.type`, type, msg));
  } else if (type === '' && !intOrString && !preserve) {
    const where =
      lvl === 'root'
        ? 'must not be empty at the root'
        : lvl === 'item'
          ? 'must not be empty for specified array items'
          : 'must not be empty for specified object fields';
    errs.push(req(`${path}.type`, where));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errs.push(
      forb(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'),
    );
  }
  if (lvl === 'root' && type !== '' && type !== 'object')
    errs.push(inv(`${path}.type`, type, 'must be object at the root'));
  const checkMetadata = lvl === 'root' || embedded;
  const props = s.properties ?? {};
  for (const tm of ['kind', 'apiVersion'] as const) {
    const p = props[tm];
    if (p !== undefined && checkMetadata && p.type !== 'string') {
      errs.push(inv(`${keyed(path, 'properties', tm)}.type`, p.type ?? '', 'must be string'));
    }
  }
  const md = props.metadata;
  if (md !== undefined)
    errs.push(...metadataInvariants(md, checkMetadata, lvl, keyed(path, 'properties', 'metadata')));
  if (embedded && !preserve && Object.keys(props).length === 0) {
    errs.push(
      req(
        `${path}.properties`,
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
  return errs;
}

// Keys of JSONSchemaProps that do not count as "specifying something" when empty or false.
function isZero(v: unknown): boolean {
  return (
    v === undefined ||
    v === false ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)
  );
}

function metadataInvariants(
  md: JSONSchemaProps,
  checkMetadata: boolean,
  lvl: Level,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (checkMetadata && md.type !== 'object') errs.push(inv(`${path}.type`, md.type ?? '', 'must be object'));
  if (lvl === 'root') {
    const rest: Record<string, unknown> = { ...md };
    const names = Object.keys(md.properties ?? {});
    const onlyNames = names.length > 0 && names.every((n) => n === 'name' || n === 'generateName');
    if (onlyNames) delete rest.properties;
    delete rest.type;
    delete rest.default;
    if (Object.values(rest).some((v) => !isZero(v))) {
      errs.push(
        forb(
          path,
          'must not specify anything other than name and generateName, but metadata is implicitly specified',
        ),
      );
    }
  }
  return errs;
}

function valueValidation(
  s: JSONSchemaProps,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
  lvl: Level,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!skipAnyOf)
    (s.anyOf ?? []).forEach((x, i) => {
      errs.push(...nested(x, false, lvl, `${path}.anyOf[${i}]`));
    });
  (s.allOf ?? []).forEach((x, i) => {
    errs.push(...nested(x, skipFirstAllOfAnyOf && i === 0, lvl, `${path}.allOf[${i}]`));
  });
  (s.oneOf ?? []).forEach((x, i) => {
    errs.push(...nested(x, false, lvl, `${path}.oneOf[${i}]`));
  });
  if (s.not !== undefined) errs.push(...nested(s.not, false, lvl, `${path}.not`));
  if (s.pattern !== undefined && s.pattern !== '') {
    const re = compileGoRegexp(s.pattern);
    if (!re.ok)
      errs.push(
        inv(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${re.error}`),
      );
  }
  return errs;
}

function nested(v: JSONSchemaProps, skipAnyOf: boolean, lvl: Level, path: string): FieldError[] {
  const errs = valueValidation(v, skipAnyOf, false, lvl, path);
  const items = itemsSchema(v);
  if (items !== undefined) errs.push(...nested(items, false, lvl, `${path}.items`));
  for (const [k, p] of Object.entries(v.properties ?? {}))
    errs.push(...nested(p, false, 'field', keyed(path, 'properties', k)));
  if ((v.type ?? '') !== '') errs.push(forb(`${path}.type`, 'must be empty to be structural'));
  if (v.additionalProperties !== undefined && v.additionalProperties !== false) {
    errs.push(forb(`${path}.additionalProperties`, 'must be undefined to be structural'));
  }
  if (v.default !== undefined && v.default !== null)
    errs.push(forb(`${path}.default`, 'must be undefined to be structural'));
  if ((v.title ?? '') !== '') errs.push(forb(`${path}.title`, 'must be empty to be structural'));
  if ((v.description ?? '') !== '') errs.push(forb(`${path}.description`, 'must be empty to be structural'));
  if (v.nullable === true) errs.push(forb(`${path}.nullable`, 'must be false to be structural'));
  const x = 'x-kubernetes-';
  if (v['x-kubernetes-preserve-unknown-fields'] === true)
    errs.push(forb(`${path}.${x}preserve-unknown-fields`, 'must be false to be structural'));
  if (v['x-kubernetes-embedded-resource'] === true)
    errs.push(forb(`${path}.${x}embedded-resource`, 'must be false to be structural'));
  if (v['x-kubernetes-int-or-string'] === true)
    errs.push(forb(`${path}.${x}int-or-string`, 'must be false to be structural'));
  if ((v['x-kubernetes-list-map-keys'] ?? []).length > 0)
    errs.push(forb(`${path}.${x}list-map-keys`, 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined)
    errs.push(forb(`${path}.${x}list-type`, 'must be undefined to be structural'));
  if (v['x-kubernetes-map-type'] !== undefined)
    errs.push(forb(`${path}.${x}map-type`, 'must be undefined to be structural'));
  if ((v['x-kubernetes-validations'] ?? []).length > 0)
    errs.push(forb(`${path}.${x}validations`, 'must be empty to be structural'));
  if (v.properties?.metadata !== undefined) {
    errs.push(forb(keyed(path, 'properties', 'metadata'), 'must not be specified in a nested context'));
  }
  return errs;
}

function completeness(
  v: JSONSchemaProps,
  s: JSONSchemaProps | undefined,
  sPath: string,
  vPath: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const walk = (n: JSONSchemaProps | undefined, child: string): void => {
    if (n !== undefined) errs.push(...nestedCompleteness(n, s, sPath, `${vPath}.${child}`));
  };
  walk(v.not, 'not');
  (v.allOf ?? []).forEach((x, i) => {
    walk(x, `allOf[${i}]`);
  });
  (v.anyOf ?? []).forEach((x, i) => {
    walk(x, `anyOf[${i}]`);
  });
  (v.oneOf ?? []).forEach((x, i) => {
    walk(x, `oneOf[${i}]`);
  });
  return errs;
}

function nestedCompleteness(
  v: JSONSchemaProps,
  s: JSONSchemaProps | undefined,
  sPath: string,
  vPath: string,
): FieldError[] {
  if (s === undefined) return [req(sPath, `because it is defined in ${vPath}`)];
  const errs = completeness(v, s, sPath, vPath);
  const vi = itemsSchema(v);
  if (vi !== undefined)
    errs.push(...nestedCompleteness(vi, itemsSchema(s), `${sPath}.items`, `${vPath}.items`));
  for (const [k, p] of Object.entries(v.properties ?? {})) {
    const sp = s.properties?.[k];
    if (sp === undefined) {
      errs.push(
        req(keyed(sPath, 'properties', k), `because it is defined in ${keyed(vPath, 'properties', k)}`),
      );
    } else {
      errs.push(...nestedCompleteness(p, sp, keyed(sPath, 'properties', k), keyed(vPath, 'properties', k)));
    }
  }
  return errs;
}

const TYPE_META = new Set(['metadata', 'apiVersion', 'kind']);

/**
 * defaulting.ValidateDefaults over the structural tree (the root counts as a resource):
 * each default must survive pruning unchanged, and must pass the embedded-resource and
 * value validation of its own schema. Defaults inside metadata are left to the CRD rules
 * that forbid or restrict them.
 */
export function validateDefaults(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  defaultsWalk(s, path, true, false, errs);
  return errs;
}

function defaultsWalk(
  s: JSONSchemaProps,
  path: string,
  isRoot: boolean,
  insideMeta: boolean,
  errs: FieldError[],
): void {
  const embedded = isRoot || s['x-kubernetes-embedded-resource'] === true;
  const meta = embedded ? false : insideMeta;
  if (s.default !== undefined && s.default !== null && !meta) {
    const c = compileSchema(s);
    if (embedded) c.embeddedResource = true;
    const pruned = structuredClone(s.default);
    pruneUnknown(pruned, c, c.embeddedResource, []);
    const at = `${path}.default`;
    if (!deepEqualJSON(pruned, s.default)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: at,
        renderedValue: JSON.stringify(s.default),
        detail: 'must not have unknown fields',
      });
    } else {
      let coerceErr: string | undefined;
      try {
        coerceEmbedded(structuredClone(s.default), c, at, []);
      } catch (e) {
        coerceErr = e instanceof Error ? e.message : String(e);
      }
      if (coerceErr !== undefined) {
        errs.push({ type: 'FieldValueInvalid', field: at, badValue: '', detail: coerceErr });
      } else {
        const metaErrs = validateEmbeddedResources(c, s.default, at);
        if (metaErrs.length > 0) errs.push(...metaErrs);
        else errs.push(...validateAgainstSchema(c, s.default, at));
      }
    }
  }
  const items = itemsSchema(s);
  if (items !== undefined) defaultsWalk(items, `${path}.items`, false, meta, errs);
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    defaultsWalk(p, keyed(path, 'properties', k), false, meta || (embedded && TYPE_META.has(k)), errs);
  }
}
