import { describe, expect, it } from 'vitest';
import { Command, encodePacket, Flags } from '../../protocol/index.js';
import { parseCapture, packetRecord, encodeLine, captureHeader, type Direction } from '../../src/apps/capture/capture-format.js';
import { decodePacket } from '../../protocol/codec.js';
import { adaptFollower, buildReplayScript } from '../../src/apps/capture/replay-script.js';

function line(t: number, dir: Direction, init: Parameters<typeof encodePacket>[0]): string {
  const bytes = encodePacket(init);
  return encodeLine(packetRecord(t, 1, dir, decodePacket(bytes), bytes));
}

describe('replay script', () => {
  it('gives pipelined requests of one code each their own reply (found in the demo capture: replies were shifted by one)', () => {
    const CB = Flags.TRIGGER_CALL_BACK;
    const text = [
      encodeLine(captureHeader('test', '127.0.0.1:53717', 0)),
      encodeLine({ type: 'open', t: 0, conn: 1, client: '127.0.0.1:1', server: '127.0.0.1:53717' }),
      line(1, 'c2s', { code: Command.STAGE_POSITION_GET, int32Data0: 1, clientId: 7, cmdDataBits0: CB }),
      line(2, 'c2s', { code: Command.STAGE_POSITION_GET, int32Data0: 2, clientId: 8, cmdDataBits0: CB }),
      line(3, 's2c', { code: Command.STAGE_POSITION_GET, int32Data0: 1, clientId: 7, status: 1, value: 7.5 }),
      line(4, 's2c', { code: Command.STAGE_MOTION_STOPPED, int32Data0: 3, status: 1 }),
      line(5, 's2c', { code: Command.STAGE_POSITION_GET, int32Data0: 2, clientId: 8, status: 1, value: 15 }),
    ].join('');
    const script = buildReplayScript(parseCapture(text).records);
    expect(script.exchanges.map((e) => e.reply?.value)).toEqual([7.5, 15]);
    expect(script.exchanges[0]!.followers.map((f) => [f.packet?.code, f.delayMs])).toEqual([[Command.STAGE_POSITION_GET, 2]]);
    // The push goes with the last request sent before it; the second reply with its own request.
    expect(script.exchanges[1]!.followers.map((f) => [f.packet?.code, f.delayMs])).toEqual([
      [Command.STAGE_MOTION_STOPPED, 2],
      [Command.STAGE_POSITION_GET, 3],
    ]);
    // A new client's sequence number replaces the recorded one in the echoed reply only.
    const now = decodePacket(encodePacket({ code: Command.STAGE_POSITION_GET, int32Data0: 1, clientId: 99 }));
    const adapted = decodePacket(adaptFollower(script.exchanges[0]!.followers[0]!, script.exchanges[0]!.request, now));
    expect([adapted.clientId, adapted.value]).toEqual([99, 7.5]);
  });
});
