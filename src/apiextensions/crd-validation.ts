// Validation of CustomResourceDefinitions as upstream's apiextensions validation does it
// for v1 objects (messages and field paths are upstream's, so `kubectl apply` of a bad CRD
// prints the same 422): names, group, scope, versions (exactly one storage version, unique
// names, a schema each), subresources, printer columns, conversion, stored versions, and
// the update rules (group and plural never change; scope and kind not once Established).
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionVersion,
  CustomResourceSubresources,
} from '../api/generated/types/apiextensions-v1.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/object-meta.js';
import type { FieldError } from '../machinery/status-error.js';
import { isDNS1035Label, isDNS1123Subdomain, nameIsDNSSubdomain } from '../machinery/validation/names.js';
import { isEstablished } from './resource-info.js';
import { deepEqualJSON } from './schema/compile.js';
import { validateCrdSchema } from './schema/index.js';

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

// Go's %#v of the versions, shortened: the message only has to name what was refused.
function goVersions(vs: readonly CustomResourceDefinitionVersion[]): string {
  const one = (v: CustomResourceDefinitionVersion): string =>
    `apiextensions.CustomResourceDefinitionVersion{Name:${JSON.stringify(v.name)}, Served:${v.served}, Storage:${v.storage}}`;
  return `[]apiextensions.CustomResourceDefinitionVersion{${vs.map(one).join(', ')}}`;
}

function invalidField(field: string, value: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, badValue: value, detail };
}

function validateSimpleJSONPath(s: string, field: string): FieldError[] {
  if (s === '') return [invalidField(field, s, 'must not be empty')];
  if (!s.startsWith('.')) return [invalidField(field, s, 'must be a simple json path starting with .')];
  return [];
}

/** Names rules (plural, singular, kind, listKind, shortNames, categories) under `path`. */
export function validateNames(n: Partial<CustomResourceDefinitionNames>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const label = (v: string | undefined, field: string, mixed: boolean): void => {
    if (v === undefined || v === '') return;
    const e = isDNS1035Label(mixed ? v.toLowerCase() : v);
    if (e.length > 0)
      errs.push(
        invalidField(
          field,
          v,
          mixed ? `may have mixed case, but should otherwise match: ${e.join(',')}` : e.join(','),
        ),
      );
  };
  label(n.plural, `${path}.plural`, false);
  label(n.singular, `${path}.singular`, false);
  label(n.kind, `${path}.kind`, true);
  label(n.listKind, `${path}.listKind`, true);
  (n.shortNames ?? []).forEach((s, i) => {
    const e = isDNS1035Label(s);
    if (e.length > 0) errs.push(invalidField(`${path}.shortNames[${i}]`, s, e.join(',')));
  });
  if (n.kind !== undefined && n.kind !== '' && n.kind === n.listKind)
    errs.push(invalidField(`${path}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  (n.categories ?? []).forEach((c, i) => {
    const e = isDNS1035Label(c);
    if (e.length > 0) errs.push(invalidField(`${path}.categories[${i}]`, c, e.join(',')));
  });
  return errs;
}

function validateSubresources(sub: CustomResourceSubresources | undefined, path: string): FieldError[] {
  const scale = sub?.scale;
  if (!scale) return [];
  const errs: FieldError[] = [];
  const check = (
    value: string | undefined,
    field: string,
    under: 'spec' | 'status',
    required: boolean,
  ): void => {
    if (value === undefined || value === '') {
      if (required) errs.push({ type: 'FieldValueRequired', field, detail: '' });
      return;
    }
    const e = validateSimpleJSONPath(value, field);
    if (e.length > 0) errs.push(...e);
    else if (!value.startsWith(`.${under}.`))
      errs.push(invalidField(field, value, `should be a json path under .${under}`));
  };
  check(scale.specReplicasPath, `${path}.scale.specReplicasPath`, 'spec', true);
  check(scale.statusReplicasPath, `${path}.scale.statusReplicasPath`, 'status', true);
  check(scale.labelSelectorPath, `${path}.scale.labelSelectorPath`, 'status', false);
  return errs;
}

/**
 * Which per-version parts upstream hoists to the top level before validating (its v1 →
 * internal conversion moves schemas, subresources and printer columns that are identical
 * in every version to spec.validation, spec.subresources, spec.additionalPrinterColumns),
 * which is where their errors are reported.
 */
interface Hoisted {
  schema: boolean;
  subresources: boolean;
  columns: boolean;
}

function hoisted(versions: readonly CustomResourceDefinitionVersion[]): Hoisted {
  const same = (
    get: (v: CustomResourceDefinitionVersion) => unknown,
    present: (x: unknown) => boolean,
  ): boolean =>
    versions.length > 0 && versions.every((v) => present(get(v)) && deepEqualJSON(get(v), get(versions[0]!)));
  return {
    schema: same(
      (v) => v.schema,
      (x) => x !== undefined && x !== null,
    ),
    subresources: same(
      (v) => v.subresources,
      (x) => x !== undefined && x !== null,
    ),
    columns: same(
      (v) => v.additionalPrinterColumns,
      (x) => Array.isArray(x) && x.length > 0,
    ),
  };
}

function validateSchema(v: CustomResourceDefinitionVersion, schemaPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const schema = v.schema?.openAPIV3Schema;
  if (schema === undefined) {
    errs.push({ type: 'FieldValueRequired', field: schemaPath, detail: 'schemas are required' });
    return errs;
  }
  if (v.subresources?.status !== undefined && schema.type !== undefined && schema.type !== 'object') {
    errs.push(
      invalidField(
        `${schemaPath}.type`,
        schema.type,
        'only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
      ),
    );
  }
  errs.push(...validateCrdSchema(schema, schemaPath));
  return errs;
}

function validateColumns(v: CustomResourceDefinitionVersion, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push({ type: 'FieldValueRequired', field: `${p}.name`, detail: '' });
    if (!c.type)
      errs.push({
        type: 'FieldValueRequired',
        field: `${p}.type`,
        detail: `must be one of ${COLUMN_TYPES.join(',')}`,
      });
    else if (!COLUMN_TYPES.includes(c.type))
      errs.push(invalidField(`${p}.type`, c.type, `must be one of ${COLUMN_TYPES.join(',')}`));
    if (c.format && !COLUMN_FORMATS.includes(c.format))
      errs.push(invalidField(`${p}.format`, c.format, `must be one of ${COLUMN_FORMATS.join(',')}`));
    if (!c.jsonPath) errs.push({ type: 'FieldValueRequired', field: `${p}.JSONPath`, detail: '' });
    else errs.push(...validateSimpleJSONPath(c.jsonPath, `${p}.JSONPath`));
  });
  return errs;
}

function validateVersion(v: CustomResourceDefinitionVersion, path: string, h: Hoisted): FieldError[] {
  const errs: FieldError[] = [];
  if (!h.schema) errs.push(...validateSchema(v, `${path}.schema.openAPIV3Schema`));
  if (!h.subresources) errs.push(...validateSubresources(v.subresources, `${path}.subresources`));
  if (!h.columns) errs.push(...validateColumns(v, `${path}.additionalPrinterColumns`));
  return errs;
}

function validateSpec(crd: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec ?? ({} as CustomResourceDefinition['spec']);
  const errs: FieldError[] = [];
  const group = spec.group ?? '';
  if (group === '') errs.push({ type: 'FieldValueRequired', field: 'spec.group', detail: '' });
  else {
    const e = isDNS1123Subdomain(group);
    if (e.length > 0) errs.push(invalidField('spec.group', group, e.join(',')));
    else if (group.split('.').length < 2)
      errs.push(invalidField('spec.group', group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push({ type: 'FieldValueRequired', field: 'spec.scope', detail: '' });
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') {
    errs.push({
      type: 'FieldValueNotSupported',
      field: 'spec.scope',
      badValue: spec.scope,
      detail: 'supported values: "Cluster", "Namespaced"',
    });
  }
  const versions = spec.versions ?? [];
  const h = hoisted(versions);
  let storage = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const e = isDNS1035Label(v.name ?? '');
    if (e.length > 0) errs.push(invalidField(`spec.versions[${i}].name`, v.name ?? '', e.join(',')));
    errs.push(...validateVersion(v, `spec.versions[${i}]`, h));
  });
  const first = versions[0];
  if (first !== undefined) {
    if (h.schema) errs.push(...validateSchema(first, 'spec.validation.openAPIV3Schema'));
    if (h.subresources) errs.push(...validateSubresources(first.subresources, 'spec.subresources'));
    if (h.columns) errs.push(...validateColumns(first, 'spec.additionalPrinterColumns'));
  }
  if (!unique)
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.versions',
      renderedValue: goVersions(versions),
      detail: 'must contain unique version names',
    });
  if (storage !== 1) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.versions',
      renderedValue: goVersions(versions),
      detail: 'must have exactly one version marked as storage version',
    });
  }
  const names = spec.names ?? ({} as CustomResourceDefinitionNames);
  if (!names.plural) errs.push({ type: 'FieldValueRequired', field: 'spec.names.plural', detail: '' });
  if (!names.singular) errs.push({ type: 'FieldValueRequired', field: 'spec.names.singular', detail: '' });
  if (!names.kind) errs.push({ type: 'FieldValueRequired', field: 'spec.names.kind', detail: '' });
  if (!names.listKind) errs.push({ type: 'FieldValueRequired', field: 'spec.names.listKind', detail: '' });
  errs.push(...validateNames(names, 'spec.names'));
  const conv = spec.conversion;
  if (conv !== undefined) {
    if (!conv.strategy)
      errs.push({ type: 'FieldValueRequired', field: 'spec.conversion.strategy', detail: '' });
    else if (conv.strategy !== 'None' && conv.strategy !== 'Webhook') {
      errs.push({
        type: 'FieldValueNotSupported',
        field: 'spec.conversion.strategy',
        badValue: conv.strategy,
        detail: 'supported values: "None", "Webhook"',
      });
    } else if (conv.strategy === 'Webhook' && conv.webhook?.clientConfig === undefined) {
      errs.push({
        type: 'FieldValueRequired',
        field: 'spec.conversion.webhook',
        detail: 'required when strategy is set to Webhook',
      });
    } else if (conv.strategy === 'None' && conv.webhook !== undefined) {
      errs.push({
        type: 'FieldValueForbidden',
        field: 'spec.conversion.webhook',
        detail: 'should not be set when strategy is not set to Webhook',
      });
    }
  }
  return errs;
}

function validateStatus(crd: CustomResourceDefinition): FieldError[] {
  const errs = validateNames(
    crd.status?.acceptedNames ?? ({} as CustomResourceDefinitionNames),
    'status.acceptedNames',
  );
  const stored = crd.status?.storedVersions ?? [];
  if (stored.length === 0) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'status.storedVersions',
      renderedValue: '[]string(nil)',
      detail: 'must have at least one stored version',
    });
    return errs;
  }
  const versions = crd.spec?.versions ?? [];
  const left = new Map(stored.map((v, i) => [v, i]));
  for (const v of versions) {
    if (v.storage && !left.has(v.name)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'status.storedVersions',
        renderedValue: goVersions([v]).slice(44, -1),
        detail: `must have the storage version ${v.name}`,
      });
    }
    left.delete(v.name);
  }
  for (const [v, i] of left)
    errs.push(invalidField(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  return errs;
}

/** Validation of a new CRD (after the strategy set its status: storedVersions includes the storage version). */
export function validateCustomResourceDefinition(crd: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec;
  const required = `${spec?.names?.plural ?? ''}.${spec?.group ?? ''}`;
  const errs = validateObjectMeta(crd.metadata, false, (name: string, prefix: boolean) => {
    const e = nameIsDNSSubdomain(name, prefix);
    if (name !== required) e.push('must be spec.names.plural+"."+spec.group');
    return e;
  });
  errs.push(...validateSpec(crd), ...validateStatus(crd));
  return errs;
}

/** Validation of a CRD update (spec through the main resource). */
export function validateCustomResourceDefinitionUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): FieldError[] {
  const errs = validateObjectMetaUpdate(crd.metadata, old.metadata);
  errs.push(...validateSpec(crd));
  const immutable = (a: unknown, b: unknown, field: string): void => {
    if (a !== b) errs.push({ type: 'FieldValueInvalid', field, badValue: a, detail: 'field is immutable' });
  };
  if (isEstablished(old)) {
    immutable(crd.spec?.scope, old.spec?.scope, 'spec.scope');
    immutable(crd.spec?.names?.kind, old.spec?.names?.kind, 'spec.names.kind');
  }
  immutable(crd.spec?.group, old.spec?.group, 'spec.group');
  immutable(crd.spec?.names?.plural, old.spec?.names?.plural, 'spec.names.plural');
  errs.push(...validateStatus(crd));
  return errs;
}

/** Validation of a CRD status update. */
export function validateCustomResourceDefinitionStatusUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(crd.metadata, old.metadata),
    ...validateNames(
      crd.status?.acceptedNames ?? ({} as CustomResourceDefinitionNames),
      'status.acceptedNames',
    ),
  ];
}
