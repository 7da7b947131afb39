/** The shapes of the per-command behaviour profile (protocol/command-profile.ts holds the rows). */

/**
 * Whether the instrument answers a command:
 * - `on-flag`: answers when TRIGGER_CALL_BACK is set; without it, silence is recorded only
 *   for 0x1007, 0x3027, 0x6008 and 0x6010 (elsewhere it is unknown: nothing may rely on it);
 * - `always`: answers with or without the flag (observed without it);
 * - `never`: never answered, even with the flag: write it and do not wait;
 * - `unknown`: no evidence either way.
 */
export type ReplyRule = 'on-flag' | 'always' | 'never' | 'unknown';

/**
 * Strength of the evidence, strongest first: LOG (a real server log), RIG (seen on the
 * instrument), SRC (read from the vendor's server source), CODE (only what the public
 * client does), CHOICE (no evidence: this project's decision).
 */
export type EvidenceGrade = 'LOG' | 'RIG' | 'SRC' | 'CODE' | 'CHOICE';

/** One piece of evidence: its grade and a short reference into spec/protocol.md's sources. */
export interface EvidenceRef {
  readonly grade: EvidenceGrade;
  /** What it supports, and where it is written (e.g. "no same-code reply, §1b, §5"). */
  readonly ref: string;
}

/** What the instrument does with a command while a workflow runs. */
export type DuringRun = 'answers' | 'no-reply' | 'unknown';

/** A second name the same code carries in the public client, with its meaning. */
export interface CommandAlias {
  readonly name: string;
  readonly meaning: string;
}

/** The behaviour profile of one command (see the module comment). */
export interface CommandProfile {
  readonly reply: ReplyRule;
  /** Code of the answer when it differs from the request's (0x1009 is answered by 0x1007). */
  readonly replyCode?: number;
  /** The trailing payload the request carries, if any. */
  readonly requestPayload?: string;
  /** Where the answer's content is (data field text, trailing payload...), if anywhere special. */
  readonly replyPayload?: string;
  /** When the instrument sends this code unasked. */
  readonly pushed?: string;
  readonly duringRun: DuringRun;
  /** What a read returns while the stage moves. */
  readonly whileMoving?: string;
  /** Other names of this code (conflicting names in the public client). */
  readonly aliases?: readonly CommandAlias[];
  /** Code drift between firmware versions. */
  readonly drift?: string;
  readonly evidence: readonly EvidenceRef[];
}
