import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingQueue } from '../../mocks/ring-queue.js';
import { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';
import { Command } from '../../protocol/commands.js';
import { encodePacket } from '../../protocol/codec.js';
import { createMemoryPair } from '../../transports/memory.js';

describe('RingQueue', () => {
  it('behaves as an array used as a queue for any sequence of push, shift and clear (across growth and wrap-around)', () => {
    const op = fc.oneof(fc.record({ push: fc.integer() }), fc.constant('shift' as const), fc.constant('clear' as const));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (ops, initial) => {
        const ring = new RingQueue<number>(initial);
        const model: number[] = [];
        for (const o of ops) {
          if (o === 'shift') expect(ring.shift()).toBe(model.shift());
          else if (o === 'clear') {
            ring.clear();
            model.length = 0;
          } else {
            ring.push(o.push);
            model.push(o.push);
          }
          expect(ring.length).toBe(model.length);
          expect(ring.peek()).toBe(model[0]);
          expect(ring.at(model.length - 1)).toBe(model[model.length - 1]);
          expect(ring.at(model.length)).toBeUndefined();
        }
        expect(ring.toArray()).toEqual(model);
      }),
    );
  });
});

describe('simulator records', () => {
  it('maxRecords 0 records nothing and drops nothing, and the simulator still answers', async () => {
    const sim = new SimulatedMicroscope({ maxRecords: 0 });
    const [client, server] = createMemoryPair();
    const id = sim.attach(server);
    const replies: Uint8Array[] = [];
    let got: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (got = resolve));
    client.attach({
      data: (chunk) => {
        replies.push(chunk);
        if (replies.reduce((n, c) => n + c.length, 0) >= 3 * 128) got();
      },
      close: () => undefined,
    });
    for (let i = 1; i <= 3; i++) await client.write(encodePacket({ code: Command.SYSTEM_STATE_GET, clientId: i, cmdDataBits0: 0x80000000 }));
    await answered;
    expect([sim.records.length, sim.recordsFor(id).length, sim.droppedRecords]).toEqual([0, 0, 0]);
    await sim.close();
    client.destroy();
  });
});
