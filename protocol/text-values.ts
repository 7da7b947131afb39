import { decodeTextBytes } from './text-document.js';

/** Reading typed values out of the text format's `key = value` strings (spec/text-format.md "Values"). */

const NUMBER = /^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A numeric value: `9,002` → 9002 (thousands separators), `-720.0`, `1e-3`,
 * `2.4949999999999997` (exactly as JavaScript reads it). Returns undefined for '' or anything
 * that is not exactly one number.
 */
export function parseNumberValue(value: string): number | undefined {
  const v = value.trim();
  if (v === '' || v === '+' || v === '-' || v === '.' || !NUMBER.test(v)) return undefined;
  const n = Number(v.replaceAll(',', ''));
  return Number.isFinite(n) ? n : undefined;
}

/** Several numbers separated by spaces (`10.67 0` → [10.67, 0]); undefined if any is not a number. */
export function parseNumberList(value: string): number[] | undefined {
  const parts = value.trim().split(/\s+/);
  const out: number[] = [];
  for (const p of parts) {
    const n = parseNumberValue(p);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** `true` / `false` (any case) → boolean; anything else → undefined. */
export function parseBooleanValue(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

/**
 * Decode a text payload. UTF-8 when it is valid UTF-8; otherwise Latin-1, because a `°`
 * written by a Windows-side tool arrives as the single byte 0xB0, which is not UTF-8.
 * Nothing is dropped (a byte-order mark stays). To write the bytes back exactly, parse the
 * bytes with parseTextFormat and use formatTextBytes, which remembers the encoding.
 */
export function decodeTextPayload(bytes: Uint8Array): string {
  return decodeTextBytes(bytes).text;
}
