import { ArgumentError } from './errors.js';

/**
 * The plain-text format of the instrument's settings file and of workflow files
 * (spec/text-format.md): `<Name>` … `</Name>` sections that nest, and `key = value` lines
 * inside them. Reading is lossless: every line's exact text (indentation, spacing around
 * `=`, trailing spaces, its own line ending) is remembered beside the node it produced, so
 * writing the tree back gives the input byte for byte and an edit rewrites only its line.
 * Pure text handling, no I/O.
 */

/** One `key = value` line. */
export interface TextEntry {
  readonly kind: 'entry';
  /** The key as written, units included (`Plane spacing (um)`), trimmed. */
  key: string;
  /** The value as written, trimmed; '' for `Sample = ` and `Sample =`. */
  value: string;
  /** A line with no `=` at all, kept verbatim in `key` so nothing is lost on a round trip. */
  bare?: boolean;
}

/** A `<Name>` … `</Name>` block; `items` keeps entries and subsections in file order. */
export interface TextSection {
  readonly kind: 'section';
  name: string;
  items: (TextEntry | TextSection)[];
}

/** How the bytes of a text map to characters (see {@link parseTextFormat}). */
export type TextEncodingName = 'utf-8' | 'latin1';

/** A parsed text: the unnamed root section plus whatever the parser had to tolerate. */
export interface TextDocument {
  /** Root (name ''); real files hold one or more top-level sections in it. */
  root: TextSection;
  /** First line ending of the source; lines added by an edit use it. */
  newline: '\n' | '\r\n';
  /** Lines the parser tolerated rather than rejected, e.g. a stray closing tag. */
  warnings: string[];
  /**
   * How the source bytes were decoded: 'latin1' when they were not valid UTF-8 (a lone
   * 0xB0 `°`). {@link formatTextBytes} encodes back the same way. 'utf-8' for string input.
   */
  encoding: TextEncodingName;
}

/** The text could not be read as the section format; names the 1-based line. */
export class TextFormatError extends ArgumentError {
  /** 1-based line where the problem was found. */
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

/** One source line: the blank or ignored lines before it, its text, its line ending. */
interface LineLayout {
  /** Lines before this one that carry nothing (blank lines, stray closing tags), verbatim. */
  before: string;
  /** The line as written, without its line ending (a leading byte-order mark included). */
  raw: string;
  /** Its line ending: '\r\n', '\n', '' for a last line without one (or a lone '\r' kept in raw). */
  eol: string;
  /** Leading whitespace (and byte-order mark) of the line. */
  indent: string;
  /** Whitespace after the content. */
  trailing: string;
  /** 1-based line number in the source. */
  line: number;
}

/** What an entry looked like when read: an unchanged entry is written as `raw`. */
interface EntryLayout extends LineLayout {
  key: string;
  value: string;
  bare: boolean;
  /** Whitespace between the key and `=`, and between `=` and the value. */
  beforeEq: string;
  afterEq: string;
}

interface SectionLayout {
  /** The opening tag line and the name it gave (the root has none). */
  open?: LineLayout & { name: string };
  close?: LineLayout & { name: string };
  /** Ignored lines after the last item: before the closing tag, or for the root the end of the text. */
  end: string;
  /** The document's newline, kept on the root for lines an edit adds. */
  newline?: '\n' | '\r\n';
}

// The layout travels with the node object itself, invisibly: nodes stay plain
// `{ kind, key, value }` records, and a node built by hand simply has no layout.
const entryLayouts = new WeakMap<TextEntry, EntryLayout>();
const sectionLayouts = new WeakMap<TextSection, SectionLayout>();

const OPEN = /^<([^/<>][^<>]*)>$/;
const CLOSE = /^<\/([^<>]*)>$/;
const LEAD = /^\s*/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const latin1 = new TextDecoder('latin1');

/**
 * Decode text bytes without losing any: UTF-8 when they are valid UTF-8 (a byte-order mark
 * is kept), else Latin-1, which maps every byte to one character and back.
 */
export function decodeTextBytes(bytes: Uint8Array): { text: string; encoding: TextEncodingName } {
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: latin1.decode(bytes), encoding: 'latin1' };
  }
}

/**
 * Encode text as `encoding`. Latin-1 holds only U+0000..U+00FF: anything else is an
 * ArgumentError naming its line, rather than a silently replaced character.
 */
export function encodeTextBytes(text: string, encoding: TextEncodingName = 'utf-8'): Uint8Array {
  if (encoding === 'utf-8') return new TextEncoder().encode(text);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) {
      const line = text.slice(0, i).split('\n').length;
      throw new TextFormatError(`character U+${c.toString(16).toUpperCase().padStart(4, '0')} cannot be written as Latin-1`, line);
    }
    out[i] = c;
  }
  return out;
}

/** Split into lines, each with its own line ending ('' for the last when the text has none). */
function splitLines(text: string): { raw: string; eol: string }[] {
  const out: { raw: string; eol: string }[] = [];
  const re = /\r?\n/g;
  let from = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ raw: text.slice(from, m.index), eol: m[0] });
    from = m.index + m[0].length;
  }
  if (from < text.length) out.push({ raw: text.slice(from), eol: '' });
  return out;
}

function lineParts(raw: string): { indent: string; body: string; trailing: string } {
  const indent = (LEAD.exec(raw) as RegExpExecArray)[0];
  const rest = raw.slice(indent.length);
  const body = rest.trimEnd();
  return { indent, body: body.trimStart(), trailing: rest.slice(body.length) };
}

/**
 * Read the section format, losslessly. Takes a string, or the bytes as received (then a
 * payload that is not valid UTF-8, such as one with a Latin-1 `°`, is read as Latin-1 and
 * {@link formatTextBytes} gives the same bytes back). Accepts LF, CRLF or both mixed, any
 * indentation, blank lines, trailing spaces, a final newline or none, empty values. A closing
 * tag that matches no open section is tolerated with a warning (files with doubled or
 * `<//Name>` closing tags exist) and kept verbatim; a line with no `=` is kept as a bare entry.
 * @throws TextFormatError naming the line of a section that is never closed.
 */
export function parseTextFormat(input: string | Uint8Array): TextDocument {
  const { text, encoding } = typeof input === 'string' ? { text: input, encoding: 'utf-8' as const } : decodeTextBytes(input);
  const lines = splitLines(text);
  const firstEol = lines.find((l) => l.eol !== '')?.eol;
  const newline: '\n' | '\r\n' = firstEol === '\r\n' ? '\r\n' : '\n';
  const root: TextSection = { kind: 'section', name: '', items: [] };
  sectionLayouts.set(root, { end: '', newline });
  const stack: TextSection[] = [root];
  const opened: number[] = [0];
  const warnings: string[] = [];
  let pending = '';
  for (let i = 0; i < lines.length; i++) {
    const { raw, eol } = lines[i] as { raw: string; eol: string };
    const { indent, body, trailing } = lineParts(raw);
    const current = stack[stack.length - 1] as TextSection;
    const base = { before: pending, raw, eol, indent, trailing, line: i + 1 };
    if (body === '') {
      pending += raw + eol;
      continue;
    }
    const close = CLOSE.exec(body);
    if (close !== null) {
      const name = (close[1] as string).trim();
      if (stack.length > 1 && name === current.name) {
        const layout = sectionLayouts.get(current) as SectionLayout;
        // The ignored lines before a closing tag are the section's `end`, written once.
        layout.close = { ...base, before: '', name };
        layout.end = pending;
        pending = '';
        stack.pop();
        opened.pop();
      } else {
        warnings.push(`line ${i + 1}: closing tag </${name}> matches no open section; ignored`);
        pending += raw + eol;
      }
      continue;
    }
    pending = '';
    const open = OPEN.exec(body);
    if (open !== null) {
      const section: TextSection = { kind: 'section', name: (open[1] as string).trim(), items: [] };
      sectionLayouts.set(section, { open: { ...base, name: section.name }, end: '' });
      current.items.push(section);
      stack.push(section);
      opened.push(i + 1);
      continue;
    }
    const eq = body.indexOf('=');
    if (eq < 0) {
      const entry: TextEntry = { kind: 'entry', key: body, value: '', bare: true };
      entryLayouts.set(entry, { ...base, key: body, value: '', bare: true, beforeEq: '', afterEq: '' });
      current.items.push(entry);
      warnings.push(`line ${i + 1}: no '=' in "${body}"; kept as a bare line`);
      continue;
    }
    const keyPart = body.slice(0, eq);
    const key = keyPart.trimEnd();
    const valuePart = body.slice(eq + 1);
    const value = valuePart.trimStart();
    // `Sample = ` ends in the space after `=`: it belongs to the separator, not to the line's tail.
    const afterEq = value === '' ? valuePart + trailing : valuePart.slice(0, valuePart.length - value.length);
    const entry: TextEntry = { kind: 'entry', key, value };
    entryLayouts.set(entry, { ...base, trailing: value === '' ? '' : trailing, key, value, bare: false, beforeEq: keyPart.slice(key.length), afterEq });
    current.items.push(entry);
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1] as TextSection;
    throw new TextFormatError(`section <${open.name}> is never closed`, opened[opened.length - 1] as number);
  }
  (sectionLayouts.get(root) as SectionLayout).end = pending;
  return { root, newline, warnings, encoding };
}

/** Options of {@link formatTextFormat}. */
export interface FormatTextOptions {
  /** Line ending of lines that were not read from a text (default: the document's, else '\n'). */
  newline?: '\n' | '\r\n';
  /** Spaces per nesting level for lines that were not read from a text (default 2). */
  indent?: number;
}

/** Collects output; inserts a line break if a line follows one that had none (the old last line). */
class LineWriter {
  private readonly parts: string[] = [];
  private open = false;
  constructor(readonly newline: string) {}
  trivia(text: string): void {
    if (text === '') return;
    if (this.open) this.parts.push(this.newline);
    this.parts.push(text);
    this.open = !text.endsWith('\n');
  }
  line(text: string, eol: string): void {
    if (this.open) this.parts.push(this.newline);
    this.parts.push(text, eol);
    this.open = eol === '';
  }
  toString(): string {
    return this.parts.join('');
  }
}

function entryLine(entry: TextEntry, pad: string): { text: string; layout: EntryLayout | undefined } {
  const layout = entryLayouts.get(entry);
  const bare = entry.bare === true;
  if (layout !== undefined && layout.key === entry.key && layout.value === entry.value && layout.bare === bare) return { text: layout.raw, layout };
  const indent = layout?.indent ?? pad;
  if (bare) return { text: `${indent}${entry.key}${layout?.trailing ?? ''}`, layout };
  // Keep the line's own spacing around `=`; a line that had none, or no value, gets one space.
  const beforeEq = layout === undefined || layout.bare ? ' ' : layout.beforeEq;
  const afterEq = layout === undefined || layout.bare || (layout.afterEq === '' && entry.value !== '') ? ' ' : layout.afterEq;
  const trailing = entry.value === '' ? '' : (layout?.trailing ?? '');
  return { text: `${indent}${entry.key}${beforeEq}=${afterEq}${entry.value}${trailing}`, layout };
}

/** Indentation for a child line that was not read: a read sibling's, else the parent's plus one level. */
function childPad(section: TextSection, fallback: string): string {
  for (const item of section.items) {
    const layout = item.kind === 'entry' ? entryLayouts.get(item) : sectionLayouts.get(item)?.open;
    if (layout !== undefined) return layout.indent.replace('\uFEFF', '');
  }
  return fallback;
}

function writeSection(w: LineWriter, section: TextSection, pad: string, unit: string): void {
  const layout = sectionLayouts.get(section);
  const open = layout?.open;
  w.trivia(open?.before ?? '');
  const indent = open?.indent ?? pad;
  w.line(open !== undefined && open.name === section.name ? open.raw : `${indent}<${section.name}>${open?.trailing ?? ''}`, open?.eol ?? w.newline);
  writeItems(w, section, childPad(section, indent.replace('\uFEFF', '') + unit), unit);
  const close = layout?.close;
  w.trivia(layout?.end ?? '');
  const closeIndent = close?.indent ?? indent.replace('\uFEFF', '');
  w.line(close !== undefined && close.name === section.name ? close.raw : `${closeIndent}</${section.name}>${close?.trailing ?? ''}`, close?.eol ?? w.newline);
}

function writeItems(w: LineWriter, section: TextSection, pad: string, unit: string): void {
  for (const item of section.items) {
    if (item.kind === 'section') {
      writeSection(w, item, pad, unit);
      continue;
    }
    const { text, layout } = entryLine(item, pad);
    w.trivia(layout?.before ?? '');
    w.line(text, layout?.eol ?? w.newline);
  }
}

/**
 * Write a section tree back as text. Every line read by {@link parseTextFormat} and not
 * changed since is written exactly as it was read (with the blank lines before it); a changed
 * entry keeps its indentation and spacing and only its text changes; lines added since are
 * written `key = value` (`key = ` for an empty value) at their siblings' indentation with the
 * document's line ending. `formatTextFormat(parseTextFormat(s).root) === s` for every s
 * that parses.
 */
export function formatTextFormat(section: TextSection, options: FormatTextOptions = {}): string {
  const rootLayout = section.name === '' ? sectionLayouts.get(section) : undefined;
  const w = new LineWriter(options.newline ?? rootLayout?.newline ?? '\n');
  const unit = ' '.repeat(options.indent ?? 2);
  // The root is a container, not a section of the file: its items start at column 0.
  if (section.name === '') {
    writeItems(w, section, childPad(section, ''), unit);
    w.trivia(rootLayout?.end ?? '');
  } else {
    writeSection(w, section, '', unit);
  }
  return w.toString();
}

/** The document as bytes in the encoding it was read with (UTF-8 or Latin-1). */
export function formatTextBytes(doc: TextDocument): Uint8Array {
  return encodeTextBytes(formatTextFormat(doc.root, { newline: doc.newline }), doc.encoding);
}

/** The 1-based source line of an entry or a section's opening tag; undefined for one added since. */
export function lineOf(node: TextEntry | TextSection): number | undefined {
  return node.kind === 'entry' ? entryLayouts.get(node)?.line : sectionLayouts.get(node)?.open?.line;
}

/** The first subsection with this name (exact match), following a path of names. */
export function findSection(section: TextSection, ...path: string[]): TextSection | undefined {
  let current: TextSection | undefined = section;
  for (const name of path) {
    current = current.items.find((i): i is TextSection => i.kind === 'section' && i.name === name);
    if (current === undefined) return undefined;
  }
  return current;
}

/** The first entry with this key (exact match), or undefined. */
export function findEntry(section: TextSection, key: string): TextEntry | undefined {
  return section.items.find((i): i is TextEntry => i.kind === 'entry' && i.key === key);
}

/** The value of the first entry with this key (exact match), or undefined. */
export function entryValue(section: TextSection, key: string): string | undefined {
  return findEntry(section, key)?.value;
}

/** Set (or append) an entry's value, keeping its place (and its line's layout) in the section. */
export function setEntry(section: TextSection, key: string, value: string): void {
  const item = findEntry(section, key);
  if (item !== undefined) {
    item.value = value;
    // A bare line is written as its key alone: it must become `key = value` or the value is lost.
    delete item.bare;
    return;
  }
  section.items.push({ kind: 'entry', key, value });
}
