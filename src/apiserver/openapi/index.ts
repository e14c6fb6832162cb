// The OpenAPI documents the API server serves, generated from the project's schema table and
// served-resource list: /openapi/v3 (an index plus one document per group/version) and
// /openapi/v2 (one Swagger 2.0 JSON document). Every function returns cached bytes; the HTTP
// layer owns content negotiation (406 for a protobuf-only Accept on /openapi/v2) and caching
// headers.
export { openapiV2Document } from './v2.js';
export {
  documentHash,
  type OpenAPIV3Index,
  type OpenAPIV3PathEntry,
  openapiV3Document,
  openapiV3Hash,
  openapiV3Paths,
} from './v3.js';
