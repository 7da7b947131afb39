import type { PendingRequest } from './pending.js';

/**
 * Correlation's answer about one packet. Defined here, below the dispatcher that acts on it,
 * so that correlation depends on protocol/ only (docs/ARCHITECTURE.md, door D7).
 */
export const Claim = {
  /** Not a reply: an event for listeners. */
  None: 0,
  /** A reply nobody waits for any more (a late reply after a timeout or abort). */
  Unmatched: 2,
} as const;
export type Claim = (typeof Claim)[keyof typeof Claim];

/**
 * What correlation matched a packet to: the pending request it answers (not yet resolved:
 * the dispatcher applies the reply to the state mirror first, then resolves the request in
 * the same tick), or {@link Claim.None} / {@link Claim.Unmatched}.
 */
export type Match = PendingRequest | Claim;
