/** The parts in one new buffer, in order (one write instead of many, one PNG out of its chunks). */
export function joinBytes(parts: readonly Uint8Array[], totalLength?: number): Uint8Array {
  const out = new Uint8Array(totalLength ?? parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
