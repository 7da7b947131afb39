/** Size in bytes of every command packet header. Trailing payloads come after it. */
export const PACKET_SIZE = 128;
/** First u32 (little-endian) of every packet. */
export const START_MARKER = 0xf321e654;
/** Last u32 (little-endian) of every packet, at offset 124. */
export const END_MARKER = 0xfedc4321;
/** Size of the free-form `data` field at offset 52. */
export const DATA_SIZE = 72;
/** Default ceiling on `addDataBytes`; larger claims are treated as corruption, never allocated. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Default command port of the microscope control computer. */
export const DEFAULT_PORT = 53717;
/** The live-image stream listens on the command port plus this offset. */
export const LIVE_PORT_OFFSET = 1;
/** Status value that replies and events use for success. */
export const STATUS_OK = 1;
/** Status value this project's simulator uses for a refused or failed command. */
export const STATUS_FAILED = 0;

/** Byte offsets of the header fields; the encoder and both decoders derive from this one table. */
export const Offset = {
  startMarker: 0,
  code: 4,
  status: 8,
  hardwareId: 12,
  subsystemId: 16,
  clientId: 20,
  int32Data0: 24,
  int32Data1: 28,
  int32Data2: 32,
  cmdDataBits0: 36,
  value: 40,
  addDataBytes: 48,
  data: 52,
  endMarker: 124,
} as const;

/** The start marker as it appears on the wire, for byte scans during resync. */
export const START_MARKER_BYTES: Uint8Array = Uint8Array.of(0x54, 0xe6, 0x21, 0xf3);
