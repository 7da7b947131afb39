// binary-parser ships types but its "exports" map has no "types" condition, so NodeNext
// resolution cannot find them for the ESM entry; point the bare specifier at them.
declare module 'binary-parser' {
  export { Parser } from 'binary-parser/dist/binary_parser.js';
}
