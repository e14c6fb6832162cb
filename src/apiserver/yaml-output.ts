// YAML rendering of response bodies for clients that ask for `application/yaml`.
import { stringify } from 'yaml';

/** Renders a JSON value as a YAML document. */
export function encodeYAMLValue(v: unknown): string {
  return stringify(v, { lineWidth: 0 });
}
