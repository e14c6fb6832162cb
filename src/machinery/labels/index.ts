// Labels and label selectors, behaving as k8s.io/apimachinery/pkg/labels and the metav1
// LabelSelector helpers: parse the string syntax, convert metav1.LabelSelector, match label
// sets and validate keys, values and selectors with upstream's messages. Parse failures
// throw SelectorParseError; the API server turns them into 400 BadRequest.

export * from './label-selector.js';
export * from './selector.js';
export * from './validation.js';
