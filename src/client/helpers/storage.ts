import { dataText, payloadText } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import type { FlamingoClient } from '../client.js';

/**
 * Mount points in a STORAGE_PATH_GET reply text: one per line (LF or CRLF), NUL padding and
 * blank lines dropped, surrounding spaces trimmed.
 */
export function parseDrives(text: string): string[] {
  return text
    .split(/[\r\n\0]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Storage the instrument can save to. */
export class StorageHelper {
  constructor(private readonly client: FlamingoClient) {}

  /**
   * STORAGE_PATH_GET (0x1013, int32Data0 0 = query): the mount points for `Save image drive`,
   * from the reply's trailing payload (the data field when a server sends no payload).
   */
  async drives(): Promise<string[]> {
    const reply = await this.client.request(Command.STORAGE_PATH_GET, { int32Data0: 0 }, { expectOk: true });
    return parseDrives(reply.payload !== undefined && reply.payload.length > 0 ? payloadText(reply) : dataText(reply));
  }
}
