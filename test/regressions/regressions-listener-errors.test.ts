/**
 * Regression: a STAGE_MOTION_STOPPED listener that threw, on a client with no 'error'
 * listener, vanished: eventemitter3 drops an 'error' nobody listens for, and the client
 * re-emitted it as 'error'. The rule now (docs/ARCHITECTURE.md, rule 3): 'error' when
 * someone listens, otherwise an uncaught exception on a later tick; the reader goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Command, encodePacket } from 'flamingo-protocol';
import { connectFake, type Harness } from '../support/client-harness.js';

type Handler = (error: unknown) => void;

/**
 * Capture the next `count` uncaught exceptions instead of letting the test runner report
 * them: vitest's own handlers are taken off for the capture and put back, in order, afterwards.
 */
function captureUncaught(count: number, timeoutMs = 5000): Promise<unknown[]> {
  const saved = process.listeners('uncaughtException') as Handler[];
  for (const h of saved) process.removeListener('uncaughtException', h);
  const caught: unknown[] = [];
  return new Promise<unknown[]>((resolve, reject) => {
    const restore = (): void => {
      clearTimeout(timer);
      process.removeListener('uncaughtException', onUncaught);
      for (const h of saved) process.on('uncaughtException', h);
    };
    const onUncaught = (error: unknown): void => {
      caught.push(error);
      if (caught.length < count) return;
      restore();
      resolve(caught);
    };
    const timer = setTimeout(() => {
      restore();
      reject(new Error(`${caught.length} of ${count} uncaught exceptions within the timeout`));
    }, timeoutMs);
    process.on('uncaughtException', onUncaught);
  });
}

const stopped = (axis: number) => encodePacket({ code: Command.STAGE_MOTION_STOPPED, int32Data0: axis, value: 1.5 });

describe('regressions: a throwing listener is never swallowed', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('no error listener: it surfaces as an uncaught exception, the other listeners and the reader go on', async () => {
    h = await connectFake('memory', 'lease');
    const client = h.client;
    expect(client.listenerCount('error')).toBe(0);
    const boom = new Error('listener bug');
    const seen: number[] = [];
    client.on('STAGE_MOTION_STOPPED', () => {
      throw boom;
    });
    client.on('STAGE_MOTION_STOPPED', (p) => seen.push(p.int32Data0));
    const uncaught = captureUncaught(2);
    h.server.connection.write(stopped(1), stopped(2));
    // One per throw, none lost, none merged.
    expect(await uncaught).toEqual([boom, boom]);
    // Both packets reached the second listener: the throw unwound nothing.
    await expect.poll(() => seen).toEqual([1, 2]);
    // The link still answers.
    const reply = await client.request(Command.SYSTEM_STATE_GET);
    expect(reply.code).toBe(Command.SYSTEM_STATE_GET);
    expect(client.state.snapshot().stage.x.position).toBe(1.5);
  });

  it("an 'error' listener receives it instead", async () => {
    h = await connectFake('memory', 'sequenced');
    const client = h.client;
    const boom = new Error('listener bug');
    client.on('STAGE_MOTION_STOPPED', () => {
      throw boom;
    });
    const reported = new Promise<Error>((resolve) => client.once('error', resolve));
    h.server.connection.write(stopped(3));
    expect(await reported).toBe(boom);
  });
});
