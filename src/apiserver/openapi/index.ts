// The OpenAPI documents the API server serves, generated from the project's schema table and
// served-resource list: /openapi/v3 (an index plus one document per group/version) and
// /openapi/v2 (one Swagger 2.0 document, as JSON or as gnostic protobuf). Every function returns
// cached bytes; the HTTP layer owns content negotiation and caching headers. Passing an API
// server's CustomResourceRegistry adds its custom resources (v3 documents per custom
// group/version, definitions merged into v2), rebuilt when the registry changes.
export { openapiV2Document } from './v2.js';
export { encodeV2Document, openapiV2Protobuf } from './v2-protobuf.js';
export {
  documentHash,
  type OpenAPIV3Index,
  type OpenAPIV3PathEntry,
  openapiV3Document,
  openapiV3Hash,
  openapiV3Paths,
} from './v3.js';
