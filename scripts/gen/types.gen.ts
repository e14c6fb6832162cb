// Generates the TypeScript interfaces of every upstream API type, one module per upstream Go
// package, under src/api/generated/types/.
//
// Package → module mapping (file stem):
//   io.k8s.api.<group>.<version>                              → <group>-<version>   (core-v1, apps-v1, …)
//   io.k8s.apimachinery.pkg.apis.meta.v1                      → meta-v1
//   io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1  → apiextensions-v1
//   io.k8s.kube-aggregator.pkg.apis.apiregistration.v1        → apiregistration-v1
//   io.k8s.apimachinery.pkg.api.resource                      → quantity   (Quantity only)
//   io.k8s.apimachinery.pkg.util.intstr                       → intstr     (IntOrString)
//   io.k8s.apimachinery.pkg.runtime                           → runtime    (RawExtension)
//   io.k8s.apimachinery.pkg.version                           → version    (Info)
// (`resource-v1` is the resource.k8s.io API group; the apimachinery `resource` package is
// named `quantity` so the two cannot be confused.)
//
// Each definition becomes an exported interface named by its Go type name; a property is
// optional unless the definition lists it as required. Types whose JSON form is not a struct
// become type aliases: Quantity and Time/MicroTime are strings, IntOrString is
// `number | string`, RawExtension/FieldsV1/Patch are `Record<string, unknown>`, apiextensions
// JSON is `unknown`. Enum-typed strings stay `string` (the allowed values live in the schema
// table) so code can pass values through without casts.
import { GENERATED_HEADER, type GeneratedFile, type GenContext } from './context.js';
import {
  ANY_JSON,
  FREE_FORM_OBJECTS,
  INT_OR_STRING,
  JSON_SCHEMA_UNIONS,
  loadSwagger,
  packageOf,
  QUANTITY,
  refName,
  type SwaggerNode,
  shortNameOf,
  TIME_DEFINITIONS,
} from './openapi-model.js';

/** Folder of the generated type modules, relative to the repository root. */
export const TYPES_DIR = 'src/api/generated/types';

const FIXED_MODULES: Readonly<Record<string, string>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1': 'meta-v1',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1': 'apiextensions-v1',
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1': 'apiregistration-v1',
  'io.k8s.apimachinery.pkg.api.resource': 'quantity',
  'io.k8s.apimachinery.pkg.util.intstr': 'intstr',
  'io.k8s.apimachinery.pkg.runtime': 'runtime',
  'io.k8s.apimachinery.pkg.version': 'version',
};

/** The module stem (file name without `.ts`) holding the types of an upstream package. */
export function moduleStemOf(pkg: string): string {
  const fixed = FIXED_MODULES[pkg];
  if (fixed !== undefined) return fixed;
  const m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[0-9a-z]+)$/.exec(pkg);
  if (m) return `${m[1]}-${m[2]}`;
  throw new Error(`types.gen: no module name for package ${pkg}; add it to FIXED_MODULES`);
}

function pascal(stem: string): string {
  return stem
    .split('-')
    .map((p) => (p.length > 0 ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join('');
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

function propKey(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

/** Resolves the local name of a referenced definition inside one module. */
type NameOf = (definition: string) => string;

function tsType(node: SwaggerNode, nameOf: NameOf): string {
  if (node.$ref !== undefined) return nameOf(refName(node.$ref));
  switch (node.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const item = node.items ? tsType(node.items, nameOf) : 'unknown';
      return item.includes(' ') ? `(${item})[]` : `${item}[]`;
    }
    case 'object':
      if (typeof node.additionalProperties === 'object') {
        return `Record<string, ${tsType(node.additionalProperties, nameOf)}>`;
      }
      return 'Record<string, unknown>';
    default:
      return 'unknown';
  }
}

/** The TypeScript declaration of one definition (without trailing newline). */
function declaration(def: string, node: SwaggerNode, nameOf: NameOf): string {
  const name = shortNameOf(def);
  const doc = `/** ${def} */\n`;
  if (def === QUANTITY) return `${doc}export type ${name} = string;`;
  if (def === INT_OR_STRING) return `${doc}export type ${name} = number | string;`;
  if (TIME_DEFINITIONS.has(def)) return `${doc}export type ${name} = string;`;
  if (FREE_FORM_OBJECTS.has(def)) return `${doc}export type ${name} = Record<string, unknown>;`;
  if (def === ANY_JSON) return `${doc}export type ${name} = unknown;`;
  const union = JSON_SCHEMA_UNIONS[def];
  if (union !== undefined) {
    const props = nameOf('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps');
    const other = union === 'array' ? `${props}[]` : union === 'bool' ? 'boolean' : 'string[]';
    return `${doc}export type ${name} = ${props} | ${other};`;
  }
  if (node.properties === undefined) {
    if (node.type === 'object' || node.type === undefined) {
      // An empty Go struct: `{}` is its only JSON form.
      return `${doc}export type ${name} = Record<string, never>;`;
    }
    return `${doc}export type ${name} = ${tsType(node, nameOf)};`;
  }
  const required = new Set(node.required ?? []);
  const lines = Object.entries(node.properties).map(
    ([p, pn]) => `  ${propKey(p)}${required.has(p) ? '' : '?'}: ${tsType(pn, nameOf)};`,
  );
  // Every kind is sent with its type meta, even where the schema omits it (WatchEvent).
  if (node['x-kubernetes-group-version-kind'] !== undefined) {
    if (node.properties.apiVersion === undefined) lines.unshift('  apiVersion?: string;');
    if (node.properties.kind === undefined) lines.push('  kind?: string;');
  }
  return `${doc}export interface ${name} {\n${lines.join('\n')}\n}`;
}

function collectRefs(node: SwaggerNode, out: Set<string>): void {
  if (node.$ref !== undefined) out.add(refName(node.$ref));
  if (node.items) collectRefs(node.items, out);
  if (typeof node.additionalProperties === 'object') collectRefs(node.additionalProperties, out);
  for (const p of Object.values(node.properties ?? {})) collectRefs(p, out);
}

/** Renders one module: imports of foreign definitions (aliased on clashes), then declarations. */
function renderModule(pkg: string, defs: [string, SwaggerNode][]): string {
  const local = new Set(defs.map(([d]) => shortNameOf(d)));
  const foreign = new Set<string>();
  for (const [def, node] of defs) {
    collectRefs(node, foreign);
    if (def in JSON_SCHEMA_UNIONS) foreign.add(`${pkg}.JSONSchemaProps`);
  }
  for (const d of [...foreign]) if (packageOf(d) === pkg) foreign.delete(d);

  const sorted = [...foreign].sort((a, b) => {
    const ma = moduleStemOf(packageOf(a));
    const mb = moduleStemOf(packageOf(b));
    return ma === mb ? (a < b ? -1 : a > b ? 1 : 0) : ma < mb ? -1 : 1;
  });
  const alias = new Map<string, string>();
  const taken = new Set(local);
  const byModule = new Map<string, string[]>();
  for (const d of sorted) {
    const short = shortNameOf(d);
    const stem = moduleStemOf(packageOf(d));
    const name = taken.has(short) ? `${pascal(stem)}${short}` : short;
    taken.add(name);
    alias.set(d, name);
    const spec = name === short ? short : `${short} as ${name}`;
    const list = byModule.get(stem) ?? [];
    list.push(spec);
    byModule.set(stem, list);
  }
  const nameOf: NameOf = (d) => alias.get(d) ?? shortNameOf(d);

  const parts: string[] = [GENERATED_HEADER, `// Types of the upstream package ${pkg}.\n`];
  const imports = [...byModule.entries()].map(
    ([stem, names]) => `import type { ${names.join(', ')} } from './${stem}.js';`,
  );
  if (imports.length > 0) parts.push(`\n${imports.join('\n')}\n`);
  for (const [def, node] of defs) parts.push(`\n${declaration(def, node, nameOf)}\n`);
  return parts.join('');
}

/** Groups definitions by package, each package's definitions sorted by Go type name. */
export function definitionsByPackage(
  definitions: Record<string, SwaggerNode>,
): Map<string, [string, SwaggerNode][]> {
  const byPkg = new Map<string, [string, SwaggerNode][]>();
  for (const name of Object.keys(definitions).sort()) {
    const pkg = packageOf(name);
    const list = byPkg.get(pkg) ?? [];
    list.push([name, definitions[name]!]);
    byPkg.set(pkg, list);
  }
  for (const list of byPkg.values()) list.sort(([a], [b]) => (shortNameOf(a) < shortNameOf(b) ? -1 : 1));
  return byPkg;
}

/** Emits one type module per upstream package. */
export function generate(ctx: GenContext): GeneratedFile[] {
  const doc = loadSwagger(ctx);
  const files: GeneratedFile[] = [];
  const byPkg = definitionsByPackage(doc.definitions);
  for (const pkg of [...byPkg.keys()].sort()) {
    const stem = moduleStemOf(pkg);
    files.push({ path: `${TYPES_DIR}/${stem}.ts`, content: renderModule(pkg, byPkg.get(pkg)!) });
  }
  const stems = files.map((f) => f.path);
  if (new Set(stems).size !== stems.length) throw new Error('types.gen: two packages map to one module');
  return files;
}
