// validateCrdSchema: what upstream's CRD validation checks of one openAPIV3Schema
// (validateCustomResourceDefinitionValidation with the options of a create): the root rules
// (nullable, the status-subresource restrictions), the structural-schema rules and default
// checks, then the OpenAPI rules every node must follow (supported keywords, list and map
// extensions, x-kubernetes-validations wording), and finally the CEL rules, compiled against
// their nodes' types (../cel), when the schema is structural.
import type { JSONSchemaProps, ValidationRule } from '../../api/generated/types/apiextensions-v1.js';
import { notSupported } from '../../api/validation/field.js';
import type { FieldError } from '../../machinery/status-error.js';
import { celRuleErrors } from '../cel/index.js';
import { validFieldPath } from '../cel/field-path.js';
import { goSharpV } from './structural-checks.js';
import { keyed, structuralInitError, validateDefaults, validateStructural } from './structural-validation.js';

/** Options of validateCrdSchema. */
export interface CrdSchemaOptions {
  /** The version enables the status subresource (restricts the root schema). */
  statusSubresource?: boolean;
}

const OPENAPI_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const VALIDATION_REASONS = [
  'FieldValueDuplicate',
  'FieldValueForbidden',
  'FieldValueInvalid',
  'FieldValueRequired',
];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);

// JSON keys of the JSONSchemaProps fields upstream allows at the root with a status subresource.
const ALLOWED_AT_ROOT_WITH_STATUS = new Set([
  'description',
  'type',
  'format',
  'title',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'required',
  'items',
  'properties',
  'externalDocs',
  'example',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
]);
const ALLOWED_AT_ROOT_TEXT =
  '[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations]';

const req = (field: string, detail: string): FieldError => ({ type: 'FieldValueRequired', field, detail });
const forb = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
const inv = (field: string, badValue: unknown, detail: string): FieldError =>
  badValue !== null &&
  typeof badValue === 'object' &&
  !(Array.isArray(badValue) && badValue.every((x) => typeof x === 'string'))
    ? { type: 'FieldValueInvalid', field, renderedValue: goSharpV(badValue), detail }
    : { type: 'FieldValueInvalid', field, badValue, detail };

function isZero(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);
}

/**
 * A CRD version's openAPIV3Schema checked as upstream's CRD validation does; fieldPath is
 * the schema's own path (e.g. `spec.versions[0].schema.openAPIV3Schema`).
 */
export function validateCrdSchema(
  schema: JSONSchemaProps,
  fieldPath: string,
  opts: CrdSchemaOptions = {},
): FieldError[] {
  const errs: FieldError[] = [];
  if (opts.statusSubresource === true) {
    for (const [k, v] of Object.entries(schema)) {
      if (isZero(v)) continue;
      if (k === 'type') {
        if (v !== 'object') {
          errs.push(
            inv(
              `${fieldPath}.type`,
              v,
              'only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
            ),
          );
          break;
        }
        continue;
      }
      if (!ALLOWED_AT_ROOT_WITH_STATUS.has(k)) {
        errs.push({
          type: 'FieldValueInvalid',
          field: fieldPath,
          renderedValue: 'v1.JSONSchemaProps{…}',
          detail: `only ${ALLOWED_AT_ROOT_TEXT} fields are allowed at the root of the schema if the status subresource is enabled`,
        });
        break;
      }
    }
  }
  if (schema.nullable === true)
    errs.push(forb(`${fieldPath}.nullable`, 'nullable cannot be true at the root'));
  const initErr = structuralInitError(schema);
  let celContext = false;
  if (initErr === undefined) {
    const structural = validateStructural(schema, fieldPath);
    if (structural.length > 0) errs.push(...structural);
    else {
      const defaults = validateDefaults(schema, fieldPath);
      errs.push(...defaults);
      celContext = defaults.length === 0;
    }
  }
  const schemaErrs = openAPISchema(
    schema,
    fieldPath,
    { allowDefaults: true, reason: '', insideMeta: false },
    true,
  );
  errs.push(...schemaErrs);
  if (celContext) {
    // Upstream compiles no rules of a node with schema errors at or below it.
    const bad = (path: string): boolean =>
      schemaErrs.some((e) => e.field === path || e.field.startsWith(`${path}.`));
    errs.push(...celRuleErrors(schema, fieldPath, bad));
  }
  if (errs.length === 0 && initErr !== undefined) {
    errs.push({ type: 'FieldValueInvalid', field: fieldPath, badValue: '', detail: initErr });
  }
  return errs;
}

interface Ssv {
  allowDefaults: boolean;
  reason: string;
  insideMeta: boolean;
}

function forbidDefaults(v: Ssv, reason: string): Ssv {
  return { ...v, allowDefaults: false, reason };
}

// specStandardValidatorV3.validate: the keywords a CRD schema may not use at any node.
function standard(s: JSONSchemaProps, path: string, v: Ssv): FieldError[] {
  const errs: FieldError[] = [];
  const type = s.type ?? '';
  if (type !== '' && !OPENAPI_TYPES.includes(type))
    errs.push(notSupported(`${path}.type`, type, OPENAPI_TYPES));
  if (s.default !== undefined && s.default !== null && !v.allowDefaults) {
    errs.push(forb(`${path}.default`, v.reason !== '' ? `must not be set ${v.reason}` : 'must not be set'));
  }
  if ((s.id ?? '') !== '') errs.push(forb(`${path}.id`, 'id is not supported'));
  if (s.additionalItems !== undefined)
    errs.push(forb(`${path}.additionalItems`, 'additionalItems is not supported'));
  if (s.patternProperties !== undefined && Object.keys(s.patternProperties).length > 0)
    errs.push(forb(`${path}.patternProperties`, 'patternProperties is not supported'));
  if (s.definitions !== undefined && Object.keys(s.definitions).length > 0)
    errs.push(forb(`${path}.definitions`, 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(forb(`${path}.dependencies`, 'dependencies is not supported'));
  if (s.$ref !== undefined) errs.push(forb(`${path}.$ref`, '$ref is not supported'));
  if (type === 'null')
    errs.push(forb(`${path}.type`, 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length > 0)
    errs.push(forb(`${path}.items`, 'items must be a schema object and not an array'));
  if (v.insideMeta && s['x-kubernetes-embedded-resource'] === true)
    errs.push(forb(`${path}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'));
  return errs;
}

// ValidateCustomResourceDefinitionOpenAPISchema (without the CEL compilation).
function openAPISchema(s: JSONSchemaProps, path: string, v: Ssv, isRoot: boolean): FieldError[] {
  const errs = standard(s, path, v);
  if (s.uniqueItems === true) {
    errs.push(
      forb(
        `${path}.uniqueItems`,
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  }
  const props = s.properties ?? {};
  const hasProps = Object.keys(props).length > 0;
  if (s.additionalProperties !== undefined) {
    if (hasProps && s.additionalProperties !== true) {
      errs.push(
        forb(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'),
      );
    }
    if (typeof s.additionalProperties === 'object') {
      const sub = v.insideMeta
        ? forbidDefaults(v, 'inside additionalProperties applying to object metadata')
        : v;
      errs.push(...openAPISchema(s.additionalProperties, `${path}.additionalProperties`, sub, false));
    }
  }
  for (const [k, p] of Object.entries(props)) {
    let sub = v;
    if ((isRoot || s['x-kubernetes-embedded-resource'] === true) && META_FIELDS.has(k)) {
      sub = { ...sub, insideMeta: true };
      if (isRoot) sub = forbidDefaults(sub, `in top-level ${k}`);
    }
    errs.push(...openAPISchema(p, keyed(path, 'properties', k), sub, false));
  }
  if (s.not !== undefined) errs.push(...openAPISchema(s.not, `${path}.not`, v, false));
  (s.allOf ?? []).forEach((x, i) => {
    errs.push(...openAPISchema(x, `${path}.allOf[${i}]`, v, false));
  });
  (s.oneOf ?? []).forEach((x, i) => {
    errs.push(...openAPISchema(x, `${path}.oneOf[${i}]`, v, false));
  });
  (s.anyOf ?? []).forEach((x, i) => {
    errs.push(...openAPISchema(x, `${path}.anyOf[${i}]`, v, false));
  });
  for (const [k, d] of Object.entries(s.definitions ?? {}))
    errs.push(...openAPISchema(d, keyed(path, 'definitions', k), v, false));
  if (Array.isArray(s.items))
    s.items.forEach((x, i) => {
      errs.push(...openAPISchema(x, `${path}.items[${i}]`, v, false));
    });
  else if (s.items !== undefined) errs.push(...openAPISchema(s.items, `${path}.items`, v, false));
  for (const [k, d] of Object.entries(s.dependencies ?? {})) {
    if (!Array.isArray(d)) errs.push(...openAPISchema(d, keyed(path, 'dependencies', k), v, false));
  }
  errs.push(...extensions(s, path));
  errs.push(...validationRules(s, s['x-kubernetes-validations'] ?? [], `${path}.x-kubernetes-validations`));
  return errs;
}

function extensions(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = s.type ?? '';
  const listType = s['x-kubernetes-list-type'];
  const mapType = s['x-kubernetes-map-type'];
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const items = s.items !== undefined && !Array.isArray(s.items) ? s.items : undefined;
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errs.push(inv(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  }
  if (mapType !== undefined && type !== 'object') {
    const msg = 'must be object if x-kubernetes-map-type is specified';
    errs.push(type === '' ? req(`${path}.type`, msg) : inv(`${path}.type`, type, msg));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') {
    errs.push(notSupported(`${path}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));
  }
  if (listType !== undefined && type !== 'array') {
    const msg = 'must be array if x-kubernetes-list-type is specified';
    errs.push(type === '' ? req(`${path}.type`, msg) : inv(`${path}.type`, type, msg));
  } else if (listType === 'set' && items !== undefined) {
    const msg = 'must be atomic as item of a list with x-kubernetes-list-type=set';
    if (
      items.type === 'array' &&
      items['x-kubernetes-list-type'] !== undefined &&
      items['x-kubernetes-list-type'] !== 'atomic'
    ) {
      errs.push(inv(`${path}.items.x-kubernetes-list-type`, items['x-kubernetes-list-type'], msg));
    } else if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      errs.push(inv(`${path}.items.x-kubernetes-map-type`, items['x-kubernetes-list-type'] ?? null, msg));
    }
  }
  if (listType !== undefined && listType !== 'atomic' && listType !== 'set' && listType !== 'map') {
    errs.push(notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  if (keys.length > 0) {
    const msg = 'must be map if x-kubernetes-list-map-keys is non-empty';
    if (listType === undefined) errs.push(req(`${path}.x-kubernetes-list-type`, msg));
    else if (listType !== 'map') errs.push(inv(`${path}.x-kubernetes-list-type`, listType, msg));
  }
  if (listType === 'map') {
    if (keys.length === 0)
      errs.push(
        req(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'),
      );
    if (s.items === undefined)
      errs.push(req(`${path}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s.items))
      errs.push(
        inv(`${path}.items`, s.items, 'must only have a single schema if x-kubernetes-list-type is map'),
      );
    if (items !== undefined && items.type !== 'object') {
      errs.push(
        inv(
          `${path}.items.type`,
          items.type ?? '',
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    }
    if (items !== undefined && items.type === 'object') {
      const seen = new Set<string>();
      for (const k of keys) {
        const p = items.properties?.[k];
        if (p !== undefined) {
          if (p.type === 'array' || p.type === 'object') {
            errs.push(
              inv(
                `${keyed(`${path}.items`, 'properties', k)}.type`,
                items.type,
                "must be a scalar type if parent array's x-kubernetes-list-type is map",
              ),
            );
          }
        } else {
          errs.push(
            inv(`${path}.x-kubernetes-list-map-keys`, keys, 'entries must all be names of item properties'),
          );
        }
        if (seen.has(k))
          errs.push(inv(`${path}.x-kubernetes-list-map-keys`, keys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if (items !== undefined && (listType === 'set' || listType === 'map')) {
    if (items.nullable === true) {
      errs.push(
        forb(`${path}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${listType}`),
      );
    }
    if (listType === 'map') {
      const required = new Set(items.required ?? []);
      for (const k of keys) {
        const p = items.properties?.[k];
        if (p === undefined) continue;
        const at = keyed(`${path}.items`, 'properties', k);
        if (!required.has(k) && (p.default === undefined || p.default === null)) {
          errs.push(
            req(
              `${at}.default`,
              'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
            ),
          );
        }
        if (p.nullable === true) {
          errs.push(
            forb(
              `${at}.nullable`,
              'this property is in x-kubernetes-list-map-keys, so it cannot be nullable',
            ),
          );
        }
      }
    }
  }
  return errs;
}

// The static checks of x-kubernetes-validations (the expressions are compiled by celRuleErrors).
function validationRules(s: JSONSchemaProps, rules: readonly ValidationRule[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    {
      const at = `${path}[${i}]`;
      const trimmedRule = (rule.rule ?? '').trim();
      const message = rule.message ?? '';
      const trimmedMsg = message.trim();
      const newline = /[\n\r]+/;
      if (trimmedRule === '') errs.push(req(`${at}.rule`, 'rule is not specified'));
      else if (message.length > 0 && trimmedMsg === '')
        errs.push(inv(`${at}.message`, message, 'message must be non-empty if specified'));
      else if (newline.test(trimmedMsg))
        errs.push(inv(`${at}.message`, message, 'message must not contain line breaks'));
      else if (newline.test(trimmedRule) && trimmedMsg === '') {
        errs.push(req(`${at}.message`, 'message must be specified if rule contains line breaks'));
      }
      const msgExpr = rule.messageExpression ?? '';
      if (msgExpr.length > 0 && msgExpr.trim() === '') {
        errs.push(req(`${at}.messageExpression`, 'messageExpression must be non-empty if specified'));
      }
      if (rule.reason !== undefined && !VALIDATION_REASONS.includes(rule.reason)) {
        errs.push(notSupported(`${at}.reason`, rule.reason, VALIDATION_REASONS));
      }
      const fp = rule.fieldPath ?? '';
      if (fp.length > 0 && fp.trim() === '')
        errs.push(inv(`${at}.fieldPath`, fp, 'fieldPath must be non-empty if specified'));
      if (newline.test(fp)) errs.push(inv(`${at}.fieldPath`, fp, 'fieldPath must not contain line breaks'));
      if (fp.length > 0 && !validFieldPath(fp, s).ok)
        errs.push(inv(`${at}.fieldPath`, fp, 'fieldPath must be a valid path'));
    }
  });
  return errs;
}
