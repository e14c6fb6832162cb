// Golden cases of kubectl apply against built-in kinds with the real schema table: every
// testdata/*.yaml holds original (last applied), current (live), modified (new config), and
// the expected three-way `patch` and `result` (the live object after the server applies the
// patch). UPDATE_GOLDEN=1 rewrites the expected parts; review the diff before keeping it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import {
  type JSONObject,
  applyStrategicMergePatch,
  createThreeWayMergePatch,
  createTwoWayMergePatch,
  deepEqual,
  isJSONObject,
  patchSchemaForGVK,
} from './index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const update = process.env.UPDATE_GOLDEN === '1';

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isJSONObject(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  }
  return v;
}

function gvkOf(obj: JSONObject): { group: string; version: string; kind: string } {
  const apiVersion = String(obj.apiVersion);
  const slash = apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
    kind: String(obj.kind),
  };
}

describe('strategic merge patch golden cases', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    it(file, () => {
      const path = join(dir, file);
      const doc = parseDocument(readFileSync(path, 'utf8'));
      const c = doc.toJS() as Record<string, JSONObject>;
      const original = c.original as JSONObject;
      const current = c.current as JSONObject;
      const modified = c.modified as JSONObject;
      const schema = patchSchemaForGVK(gvkOf(modified));
      assert.ok(schema, 'kind has a schema');

      const inputs = JSON.stringify([original, current, modified]);
      const patch = createThreeWayMergePatch(original, modified, current, schema, true);
      const result = applyStrategicMergePatch(current, patch, schema);
      assert.equal(JSON.stringify([original, current, modified]), inputs, 'inputs unchanged');

      // The two-way patch from original must rebuild modified exactly (list order included).
      const twoWay = createTwoWayMergePatch(original, modified, schema);
      assert.deepEqual(applyStrategicMergePatch(original, twoWay, schema), modified);

      if (update) {
        doc.set('patch', doc.createNode(sortKeys(patch)));
        doc.set('result', doc.createNode(result));
        writeFileSync(path, doc.toString({ lineWidth: 100 }));
        return;
      }
      assert.ok(deepEqual(patch, c.patch ?? {}), `patch:\n${JSON.stringify(sortKeys(patch), null, 1)}`);
      assert.ok(deepEqual(result, c.result), `result:\n${JSON.stringify(result, null, 1)}`);
    });
  }
});
