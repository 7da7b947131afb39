/** One decoded command packet: the 128-byte header plus any trailing payload. */
export interface Packet {
  code: number;
  status: number;
  hardwareId: number;
  subsystemId: number;
  clientId: number;
  int32Data0: number;
  int32Data1: number;
  int32Data2: number;
  cmdDataBits0: number;
  /** The f64 "doubleData" field: positions in mm, exposure, timing. */
  value: number;
  /** Length of the payload that follows the header on the stream. */
  addDataBytes: number;
  /**
   * The 72-byte data field, NUL-padded. Always a private copy: never written again after
   * decoding. It may be a view into a slab shared with other packets' data fields
   * (protocol/byte-slab.ts), so read it through its own byteOffset and length (or `slice()` it)
   * rather than through `data.buffer` alone.
   */
  data: Uint8Array;
  /** The trailing payload (`addDataBytes` long), a private copy; absent when addDataBytes is 0. */
  payload?: Uint8Array;
}

/** Fields to encode; every one optional (0, empty data, no payload). */
export interface PacketInit {
  code?: number;
  status?: number;
  hardwareId?: number;
  subsystemId?: number;
  clientId?: number;
  int32Data0?: number;
  int32Data1?: number;
  int32Data2?: number;
  cmdDataBits0?: number;
  value?: number;
  /** Ignored when `payload` is given (then it is the payload's length). */
  addDataBytes?: number;
  /** Bytes, or text encoded as UTF-8; NUL-padded to 72 bytes. Longer than 72 bytes is an error. */
  data?: Uint8Array | string;
  payload?: Uint8Array;
}

/** Numeric header fields, the ones a matcher or a sequence number may use. */
export type PacketField =
  | 'status'
  | 'hardwareId'
  | 'subsystemId'
  | 'clientId'
  | 'int32Data0'
  | 'int32Data1'
  | 'int32Data2'
  | 'cmdDataBits0'
  | 'value'
  | 'addDataBytes';

/** The u32 header fields that can carry a sequence number in sequenced mode. */
export type SequenceField = 'clientId' | 'hardwareId' | 'subsystemId';
