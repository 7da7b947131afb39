/**
 * Lease-mode regressions found by the reliability matrix (test/model), named after their
 * counterexamples.
 */
import { describe, expect, it } from 'vitest';
import { Command, commandName, createMemoryPair, Deframer, encodePacket, FlamingoClient, Flags, TimeoutError, type Packet } from 'flamingo-protocol';

describe('regressions: lease', () => {
  // drop/memory/lease, fixed seed, FC_NUM_RUNS=40: [moveBy(1, 0, read 1)], sim seed
  // 1361136263: "client emitted 2 events but the simulator sent 1". moveBy's exclusive
  // section ended (its STAGE_POSITION_SET timed out: the ack was dropped) while the
  // section's own exchange was still fencing the late SET. The lease went to the next
  // request at once, which fenced the same late code again: two SYSTEM_STATE_GET fences on
  // the wire, the first reply claimed by the second fence, the second reply emitted as an
  // event. A section must keep the lease until its last exchange (and its fence) is done.
  it('an exclusive section whose request timed out keeps the lease until its fence is answered', async () => {
    const [clientEnd, serverEnd] = createMemoryPair();
    const deframer = new Deframer();
    const received: string[] = [];
    serverEnd.attach({
      data: (chunk) => {
        for (const p of deframer.push(chunk)) {
          received.push(commandName(p.code));
          if ((p.cmdDataBits0 & Flags.TRIGGER_CALL_BACK) === 0) continue;
          if (p.code === Command.STAGE_POSITION_SET) {
            // The move runs (zero length: the stop event at once) but its ack is lost.
            void serverEnd.write(encodePacket({ code: Command.STAGE_MOTION_STOPPED, status: 1, int32Data0: p.int32Data0, value: p.value }));
            continue;
          }
          const reply = p.code === Command.STAGE_POSITION_GET ? { int32Data0: p.int32Data0, value: 7.5 } : {};
          void serverEnd.write(encodePacket({ code: p.code, status: 1, ...reply }));
        }
      },
      close: () => undefined,
    });
    const client = await FlamingoClient.connect({ transport: clientEnd, mode: 'lease', requestTimeoutMs: 40 });
    const events: Packet[] = [];
    client.on('event', (p) => events.push(p));
    try {
      const move = client.stage.moveBy(1, 0).then(
        () => undefined,
        (e: Error) => e,
      );
      const read = client.stage.position(1);
      expect(await move).toBeInstanceOf(TimeoutError);
      expect(await read).toBe(7.5);
      // One fence for the late SET, then the queued read: never two fences at once.
      expect(received).toEqual(['STAGE_POSITION_GET', 'STAGE_POSITION_SET', 'SYSTEM_STATE_GET', 'STAGE_POSITION_GET']);
      expect(events.map((p) => commandName(p.code))).toEqual(['STAGE_MOTION_STOPPED']);
      expect(client.pendingCount).toBe(0);
    } finally {
      await client.close();
      serverEnd.destroy();
    }
  });
});
