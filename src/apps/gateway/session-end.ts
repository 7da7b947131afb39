/** Why a gateway session ends, and the text of the gateway's own failure replies. */
import { FlamingoError } from '../../../protocol/errors.js';

/** Why a session ended. */
export type SessionEnd =
  | { kind: 'peer'; error: Error | undefined }
  | { kind: 'token'; detail: string }
  | { kind: 'slow'; backlogBytes: number }
  | { kind: 'frame'; detail: string }
  | { kind: 'gateway' };

/** Why a session ended, in words (the gateway's log line and `closed` event). */
export function describeEnd(end: SessionEnd): string {
  switch (end.kind) {
    case 'peer':
      return end.error === undefined ? 'disconnected' : `disconnected: ${end.error.message}`;
    case 'token':
      return `refused: ${end.detail}`;
    case 'slow':
      return `cut off: slow reader, ${end.backlogBytes} bytes unsent`;
    case 'frame':
      return `closed: ${end.detail}`;
    case 'gateway':
      return 'closed by the gateway';
  }
}

export /** The text a failure reply carries in its data field (at most 72 bytes). */
function failureText(error: unknown): string {
  if (error instanceof FlamingoError) {
    switch (error.code) {
      case 'TIMEOUT':
        return 'gateway: no reply from the instrument';
      case 'CLOSED':
        return 'gateway: instrument connection lost';
      case 'QUEUE':
        return 'gateway: waited too long for the instrument';
      case 'ARGUMENT':
        return 'gateway: invalid request';
      default:
        return `gateway: ${error.code.toLowerCase()}`;
    }
  }
  return 'gateway: request failed';
}
