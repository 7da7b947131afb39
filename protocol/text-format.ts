/**
 * The instrument's plain-text formats (spec/text-format.md), gathered under the name apps
 * already import: the lossless section reader and writer, value parsers, and the readers of
 * the settings text. Workflow texts are in workflow-text.ts.
 */
export {
  decodeTextBytes,
  encodeTextBytes,
  entryValue,
  findEntry,
  findSection,
  formatTextBytes,
  formatTextFormat,
  lineOf,
  parseTextFormat,
  setEntry,
  TextFormatError,
  type FormatTextOptions,
  type TextDocument,
  type TextEncodingName,
  type TextEntry,
  type TextSection,
} from './text-document.js';
export { decodeTextPayload, parseBooleanValue, parseNumberList, parseNumberValue } from './text-values.js';
export * from './settings-text.js';
export { DEFAULT_SETTINGS_TEXT } from './default-settings.js';
