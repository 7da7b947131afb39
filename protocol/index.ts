export * from './constants.js';
export * from './flags.js';
export * from './errors.js';
export type * from './packet.js';
export * from './commands.js';
export * from './command-profile.js';
export {
  encodePacket,
  encodeHeaderInto,
  decodePacket,
  decodePacketWithParser,
  readPacketAt,
  hasMarkersAt,
  dataText,
  payloadText,
} from './codec.js';
export * from './deframer.js';
export { HeaderSlab, type HeaderStamp } from './header-slab.js';
export { ByteSlab } from './byte-slab.js';
export { WirePacket, claimPacket, type PacketClaim } from './wire-packet.js';
export * from './image.js';
export * from './text-format.js';
export * from './workflow-text.js';
export * from './system-state.js';
export * from './laser-level.js';
export * from './tile-grid.js';
export * from './domain.js';
export * from './bytes.js';
