import { START_MARKER_BYTES } from './constants.js';

/** True when bytes[at, at + 4) is the start marker. */
export function startsWithMarker(bytes: Uint8Array, at: number): boolean {
  return (
    bytes[at] === START_MARKER_BYTES[0] &&
    bytes[at + 1] === START_MARKER_BYTES[1] &&
    bytes[at + 2] === START_MARKER_BYTES[2] &&
    bytes[at + 3] === START_MARKER_BYTES[3]
  );
}

/** Offset of the first full start marker in bytes[from, end), or -1. */
export function indexOfMarker(bytes: Uint8Array, from: number, end: number): number {
  const m0 = START_MARKER_BYTES[0] as number;
  const m1 = START_MARKER_BYTES[1] as number;
  const m2 = START_MARKER_BYTES[2] as number;
  const m3 = START_MARKER_BYTES[3] as number;
  let i = bytes.indexOf(m0, from);
  while (i >= 0 && i + 3 < end) {
    if (bytes[i + 1] === m1 && bytes[i + 2] === m2 && bytes[i + 3] === m3) return i;
    i = bytes.indexOf(m0, i + 1);
  }
  return -1;
}

/** The first offset in [from, end) from which the remaining bytes are a prefix of the marker, else `end`. */
export function partialMarkerStart(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    let prefix = true;
    for (let j = i; j < end; j++) {
      if (bytes[j] !== START_MARKER_BYTES[j - i]) {
        prefix = false;
        break;
      }
    }
    if (prefix) return i;
  }
  return end;
}
