import { timingSafeEqual } from 'node:crypto';
import { Command } from '../../../protocol/commands.js';
import type { Packet } from '../../../protocol/packet.js';
import { GatewayCommand } from './extension.js';

/**
 * Commands a read-only client may send: queries that change nothing on the instrument,
 * plus the gateway's own hello. An explicit allow-list, not "everything named *_GET": a
 * command that is not known to be harmless is refused. Everything else (SET, moves,
 * HOME/HALT, lasers, LEDs, illumination, live view, workflows, settings save, and
 * LEASE_ACQUIRE, which would hold the other clients back) gets a failure reply.
 * CAMERA_CHECK_STACK* and STAGE_WAIT_FOR_MOTION are left out: their effect on the
 * firmware is not documented.
 */
export const READ_ONLY_COMMANDS: ReadonlySet<number> = new Set<number>([
  GatewayCommand.GATEWAY_HELLO,
  GatewayCommand.LEASE_RELEASE,
  Command.COMMON_SCOPE_SETTINGS,
  // How settings are read (answered by a 0x1007 packet); it changes nothing.
  Command.COMMON_SCOPE_SETTINGS_LOAD,
  Command.STORAGE_PATH_GET,
  Command.LASER_LEVEL_GET,
  Command.CAMERA_EXPOSURE_GET,
  Command.CAMERA_IMAGE_SIZE_GET,
  Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET,
  Command.FILTER_POSITION_GET,
  Command.STAGE_POSITION_GET,
  Command.STAGE_SAVE_LOCATIONS_GET,
  Command.SYSTEM_STATE_GET,
]);

/** May a read-only client send this command? */
export function readOnlyAllows(code: number): boolean {
  return READ_ONLY_COMMANDS.has(code);
}

// Re-exported where it was first published; it lives alone so tls.ts can use it without a cycle.
export { isLoopbackHost } from './loopback.js';

const utf8 = new TextEncoder();

/** The token as the bytes a GATEWAY_HELLO carries (UTF-8, NUL-padded to the data field). */
export function tokenBytes(token: string): Uint8Array {
  const bytes = new Uint8Array(72);
  const encoded = utf8.encode(token);
  if (encoded.length === 0 || encoded.length > 72 || encoded.includes(0)) {
    throw new RangeError('the gateway token must be 1..72 UTF-8 bytes without NUL');
  }
  bytes.set(encoded);
  return bytes;
}

/**
 * Does the hello packet carry the token? Compares the whole 72-byte data field in constant
 * time, so the time a refusal takes does not tell how much of a guess was right.
 */
export function helloCarriesToken(packet: Packet, expected: Uint8Array): boolean {
  return packet.code === GatewayCommand.GATEWAY_HELLO && packet.data.length === expected.length && timingSafeEqual(packet.data, expected);
}
