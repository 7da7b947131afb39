/** Bits of `cmdDataBits0`, from the public client (see spec/protocol.md §Flags). */
export const Flags = {
  /**
   * Ask the server to answer (echoed in the reply). Without it some codes still answer and
   * some were seen not to: per command, spec/commands.json `reply` (spec/protocol.md §5.1).
   */
  TRIGGER_CALL_BACK: 0x80000000,
  EXPERIMENT_TIME_REMAINING: 0x00000001,
  STAGE_POSITIONS_IN_BUFFER: 0x00000002,
  MAX_PROJECTION: 0x00000004,
  SAVE_TO_DISK: 0x00000008,
  /** Do not send position updates while the stage moves. */
  STAGE_NOT_UPDATE_CLIENT: 0x00000010,
  STAGE_ZSWEEP: 0x00000020,
} as const;

/** A flag's key in {@link Flags}, for APIs and CLIs that take flags by name. */
export type FlagName = keyof typeof Flags;
