/**
 * Correlation's answer about one packet. Defined here, below the dispatcher that acts on it,
 * so that correlation depends on protocol/ only (docs/ARCHITECTURE.md, door D7).
 */
export const Claim = {
  /** Not a reply: an event for listeners. */
  None: 0,
  /** The reply of a pending request, already handed to it. */
  Reply: 1,
  /** A reply nobody waits for any more (a late reply after a timeout or abort). */
  Unmatched: 2,
} as const;
export type Claim = (typeof Claim)[keyof typeof Claim];
