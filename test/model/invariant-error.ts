/** A broken invariant; fast-check shrinks the command sequence that led to it. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}
