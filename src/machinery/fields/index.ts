// Field selectors (`?fieldSelector=`), behaving as k8s.io/apimachinery/pkg/fields: parsing
// with upstream's escaping and messages, and matching against a per-resource field map.
// Parse failures throw FieldSelectorParseError; the API server turns them into 400s.

export * from './field-selector.js';
