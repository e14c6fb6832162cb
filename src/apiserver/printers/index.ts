// Server-side Table printing for `kubectl get` (upstream's pkg/printers/internalversion and
// the default table convertor). Contract: buildTable(group, plural, objects, opts) turns
// objects of one resource, in the version the client asked for, into a metav1.Table with
// upstream's columns and cell values (wide cells always included; kubectl hides them),
// the rows' objects shaped by includeObject, and no side effects. Printers are pure
// functions of the object and the clock, and tolerate objects with missing fields.
export {
  type BuildTableOptions,
  type IncludeObject,
  type PrintContext,
  type ResourcePrinter,
  type Table,
  type TableColumnDefinition,
  type TableListMeta,
  type TableRow,
  type TableRowCondition,
  DEFAULT_PRINTER,
  attachPrinter,
  buildTable,
  buildTableFor,
  buildTableWith,
  resourcePrinter,
} from './table.js';
export { printedResources, printerFor } from './registry.js';
export { podSummary } from './pods.js';
