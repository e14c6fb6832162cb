// Contract of the custom-resource schema machinery: a CRD version's openAPIV3Schema
// compiled once into validation (kube-openapi wording, list-type uniqueness, embedded
// resources), pruning with unknown-field paths, structural defaulting and a SchemaNode tree
// for server-side apply, plus the structural-schema checks a CRD itself must pass. CEL
// (x-kubernetes-validations) rules are compiled with the schema (../cel) and evaluated after
// the schema's own validation, with the old object on update (transition rules, ratcheting).
import type { JSONSchemaProps } from '../../api/generated/types/apiextensions-v1.js';
import type { SchemaNode } from '../../api/schema-types.js';
import type { FieldError } from '../../machinery/status-error.js';
import { type CelValidator, compileCelValidator } from '../cel/index.js';
import { compileSchema } from './compile.js';
import { applyDefaults, coerceCustomObject } from './prune.js';
import { resourceSchemaNode } from './schema-node.js';
import { validateEmbeddedResources, validateListSetsAndMaps } from './structural-checks.js';
import { validateAgainstSchema } from './value-validation.js';

export { type CrdSchemaOptions, validateCrdSchema } from './crd-schema-validation.js';
export { ObjectMetaDecodeError } from './structural-checks.js';

/** A compiled openAPIV3Schema of one CRD version. */
export interface CustomResourceSchema {
  /**
   * Field errors for a whole custom object, paths like `spec.replicas` (as upstream prints
   * them in a 422): kube-openapi value validation, x-kubernetes-list-type set/map
   * uniqueness, embedded resources' apiVersion/kind/metadata, then the
   * x-kubernetes-validations rules (`old` is the stored object on update: oldSelf and
   * ratcheting; ratcheted rule failures are appended to `warnings`). The root's
   * apiVersion/kind/metadata are the caller's (the CR strategy's) to check.
   */
  validate(obj: Record<string, unknown>, old?: Record<string, unknown>, warnings?: string[]): FieldError[];
  /**
   * Removes what the schema does not declare, in place, as upstream's CR decoder does: root
   * metadata decoded as ObjectMeta, undeclared fields, non-nullable nulls without a default,
   * embedded resources' unknown metadata. Returns the removed paths as upstream's strict
   * decoding names them, without a leading dot (`spec.foo`, `metadata.bar`,
   * `spec.items[0].baz`); a caller prints each as `unknown field "<path>"`. Throws a 400
   * StatusError when metadata cannot be decoded as ObjectMeta.
   */
  prune(obj: Record<string, unknown>): string[];
  /** Structural defaulting in place (`default` keywords). */
  applyDefaults(obj: Record<string, unknown>): void;
  /** The schema as a SchemaNode tree (metadata as a ref to ObjectMeta), for server-side apply. */
  readonly node: SchemaNode;
}

/** What compileCustomResourceSchema returns: the contract plus the status-subresource helper. */
export interface CompiledCustomResourceSchema extends CustomResourceSchema {
  /**
   * Validation of `status` alone, as upstream's /status update does (its schema is the
   * `status` property; paths under `status.`). Empty when the schema declares no status.
   */
  validateStatus(status: unknown): FieldError[];
}

/** Compiles a CRD version's openAPIV3Schema. */
export function compileCustomResourceSchema(schema: JSONSchemaProps): CompiledCustomResourceSchema {
  const root = compileSchema(schema);
  const status = root.properties?.get('status');
  let node: SchemaNode | undefined;
  const cel = compileCelValidator(schema);
  return {
    validate(obj, old, warnings) {
      const errs = [
        ...validateAgainstSchema(root, obj),
        ...validateEmbeddedResources(root, obj),
        ...validateListSetsAndMaps(root, obj),
      ];
      return cel === undefined ? errs : [...errs, ...celErrors(cel, errs, obj, old, warnings)];
    },
    validateStatus(value) {
      if (status === undefined) return [];
      const errs = [...validateAgainstSchema(status, value, 'status')];
      const wrapped = { status: value };
      const onlyStatus = { ...root, properties: new Map([['status', status]]) };
      errs.push(
        ...validateEmbeddedResources(onlyStatus, wrapped),
        ...validateListSetsAndMaps(onlyStatus, wrapped),
      );
      return errs;
    },
    prune(obj) {
      return coerceCustomObject(obj, root);
    },
    applyDefaults(obj) {
      applyDefaults(obj, root);
    },
    get node() {
      node ??= resourceSchemaNode(root);
      return node;
    },
  };
}

/**
 * The rules' errors, unless the object already failed in a way that makes its values
 * untyped (upstream's hasBlockingErr: a NotSupported or TypeInvalid error).
 */
function celErrors(
  cel: CelValidator,
  errs: readonly FieldError[],
  obj: Record<string, unknown>,
  old: Record<string, unknown> | undefined,
  warnings: string[] | undefined,
): FieldError[] {
  if (errs.some((e) => e.type === 'FieldValueNotSupported' || e.type === 'FieldValueTypeInvalid')) {
    return [
      {
        type: 'FieldValueInvalid',
        field: '<nil>',
        // Go prints a nil bad value as the quoted string "null".
        renderedValue: '"null"',
        detail:
          'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      },
    ];
  }
  return cel.validate(obj, old, warnings);
}
