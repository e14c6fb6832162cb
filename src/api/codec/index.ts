// Wire codecs of the API: JSON (the default), YAML (apply-patch+yaml, manifests) and the
// Kubernetes protobuf form (kubectl's typed clients post it). Every decoder returns plain
// JSON-shaped objects, identical whichever form the body came in, and raises nothing but a
// 400 StatusError on malformed input; encoders are their inverses.
export {
  decodeJSON,
  decodeJSONWithDuplicates,
  decodeUTF8,
  type JSONWithDuplicates,
  MAX_JSON_DEPTH,
  parseJSONValue,
} from './json.js';
export {
  decodePodProtobuf,
  decodeProtobuf,
  decodeProtobufDroppingZeros,
  decodeProtobufMessage,
  encodeProtobuf,
  encodeProtobufMessage,
  hasProtobufPrefix,
  MAX_PROTO_DEPTH,
  PROTOBUF_MEDIA_TYPE,
} from './protobuf.js';
export { decodeYAML, decodeYAMLStream, encodeYAML, MAX_YAML_ALIAS_COUNT } from './yaml.js';
