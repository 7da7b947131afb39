/**
 * Counterexamples of the hostile-server fuzz (test/property/fuzz-client.test.ts), as named tests.
 */
import { describe, expect, it } from 'vitest';
import { Command, ConnectionClosedError, createMemoryPair, Deframer, encodePacket, FlamingoClient, Flags, Offset, TimeoutError } from 'flamingo-protocol';

describe('regressions: hostile server', () => {
  // fuzz-client "lease, memory", fixed seed, FC_NUM_RUNS=300, counterexample 34: a foreign
  // packet claiming 599 more payload bytes than it carried swallowed the replies of every
  // lease fence written after a timeout. The client reported `error` "server stopped
  // answering" (the fuzz then allowed only FrameError). That is the lease working as
  // specified (spec/protocol.md §8: every fence code timed out → the link is dropped); what
  // must hold: the request times out, the link is dropped once, the client closes (no
  // reconnect) and later calls fail fast as never sent.
  it('lease: a lying payload claim that swallows every fence reply drops the link; nothing hangs', async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const deframer = new Deframer();
    const fenceCodes: number[] = [];
    serverEnd.attach({
      data: (chunk) => {
        for (const p of deframer.push(chunk)) {
          if ((p.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) === 0) continue;
          if (p.code === Command.STAGE_POSITION_GET) {
            // No reply; a header that claims 1000 payload bytes and sends none.
            const liar = encodePacket({ code: 0x1234 });
            new DataView(liar.buffer).setUint32(Offset.addDataBytes, 1000, true);
            void serverEnd.write(liar);
          } else {
            fenceCodes.push(p.code);
            void serverEnd.write(encodePacket({ code: p.code, status: 1 })); // swallowed as "payload"
          }
        }
      },
      close: () => undefined,
    });
    const client = await FlamingoClient.connect({ transport: clientEnd, mode: 'lease', requestTimeoutMs: 30 });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    try {
      const outcome = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(outcome).toBeInstanceOf(TimeoutError);
      await closed;
      expect(fenceCodes).toEqual([Command.SYSTEM_STATE_GET, Command.CAMERA_IMAGE_SIZE_GET, Command.CAMERA_EXPOSURE_GET]);
      expect(errors.map((e) => e.message.startsWith('server stopped answering'))).toEqual([true]);
      expect(client.isClosed).toBe(true);
      const after = await client.request(Command.SYSTEM_STATE_GET).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(after).toBeInstanceOf(ConnectionClosedError);
      expect((after as ConnectionClosedError).maybeExecuted).toBe(false);
      expect(client.pendingCount).toBe(0);
    } finally {
      await client.close();
      serverEnd.destroy();
    }
  });
});
