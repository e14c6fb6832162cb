// The OpenAPI documents of one API server's custom resources, built from its
// CustomResourceRegistry and rebuilt after the registry changes (a CRD created, updated or
// deleted), so the v3 index hashes move exactly when a group/version's document does. The
// cache hangs off the registry itself: several API servers in one process never share it.
import type { CustomResourceRegistry, ServedCustomResource } from '../../apiextensions/registry.js';
import { customResourceDefinitions, customResourceRoutes } from './custom-resources.js';
import { groupRoute, type Route } from './routes.js';
import type { Dialect, JsonObject } from './schema-json.js';

/** Renders a document from its routes and the custom definitions it needs. */
type Render<T> = (routes: readonly Route[], extra: JsonObject) => T;

/** Lazily built documents of one registry state. */
export interface CustomDocuments {
  /** v3 documents by index key (`apis/<group>`, `apis/<group>/<version>`). */
  v3<T>(render: Render<T>): ReadonlyMap<string, T>;
  /** The custom part of the v2 document (every custom route and definition), rendered once. */
  v2<T>(render: Render<T>): T;
}

interface State {
  v3?: Map<string, unknown>;
  v2?: unknown;
}

const states = new WeakMap<CustomResourceRegistry, State>();

function stateOf(custom: CustomResourceRegistry): State {
  let st = states.get(custom);
  if (st === undefined) {
    st = {};
    states.set(custom, st);
    const reset = st;
    custom.onChange(() => {
      reset.v3 = undefined;
      reset.v2 = undefined;
    });
  }
  return st;
}

function definitionsOf(entries: readonly ServedCustomResource[], dialect: Dialect): JsonObject {
  const out: JsonObject = {};
  for (const e of entries) Object.assign(out, customResourceDefinitions(e, dialect));
  return out;
}

/** The documents of the custom resources `custom` serves now. */
export function customResourceDocuments(custom: CustomResourceRegistry): CustomDocuments {
  const st = stateOf(custom);
  return {
    v3<T>(render: Render<T>): ReadonlyMap<string, T> {
      if (st.v3 === undefined) {
        const docs = new Map<string, unknown>();
        const entries = custom.current();
        for (const g of custom.groups()) {
          docs.set(`apis/${g.name}`, render([groupRoute(g.name)], {}));
          for (const v of g.versions) {
            const mine = entries.filter((e) => e.info.group === g.name && e.info.version === v);
            docs.set(
              `apis/${g.name}/${v}`,
              render(customResourceRoutes(mine, g.name, v), definitionsOf(mine, 'v3')),
            );
          }
        }
        st.v3 = docs;
      }
      return st.v3 as Map<string, T>;
    },
    v2<T>(render: Render<T>): T {
      if (st.v2 === undefined) {
        const entries = custom.current();
        const routes: Route[] = [];
        for (const g of custom.groups()) {
          routes.push(groupRoute(g.name));
          for (const v of g.versions) routes.push(...customResourceRoutes(entries, g.name, v));
        }
        st.v2 = render(routes, definitionsOf(entries, 'v2'));
      }
      return st.v2 as T;
    },
  };
}
