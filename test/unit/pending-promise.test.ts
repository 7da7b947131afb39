/**
 * A PendingRequest makes its promise when first asked for it (issue 14): a request
 * delivered to a sink, or a fence nobody awaits, makes none. Asked for after it settled,
 * the promise is settled the same way; a failure nobody asks about raises no unhandled
 * rejection.
 */
import { describe, expect, it } from 'vitest';
import { Command, ProtocolError, decodePacket, encodePacket, type Packet, type PendingRequest } from 'flamingo-protocol';
import { pendingRequest } from '../support/pending-request.js';

function request(expectOk = false): PendingRequest {
  return pendingRequest({ fields: { int32Data0: 4 }, expectOk });
}

const reply = (status: number): Packet => decodePacket(encodePacket({ code: Command.SYSTEM_STATE_GET, status }));

describe('PendingRequest.promise', () => {
  it('asked for before the reply: resolves with it, and is the same promise every time', async () => {
    const r = request();
    const promise = r.promise;
    expect(r.promise).toBe(promise);
    const packet = reply(1);
    r.resolveWith(packet);
    await expect(promise).resolves.toBe(packet);
  });

  it('asked for after the reply: already resolved with it', async () => {
    const r = request();
    const packet = reply(1);
    r.resolveWith(packet);
    expect(r.outcome).toBe('reply');
    await expect(r.promise).resolves.toBe(packet);
  });

  it('asked for after a failure: rejects with that error; an expectOk failure status rejects with ProtocolError', async () => {
    const failed = request();
    const error = new Error('link gone');
    failed.fail(error);
    await expect(failed.promise).rejects.toBe(error);
    const refused = request(true);
    refused.resolveWith(reply(0));
    await expect(refused.promise).rejects.toBeInstanceOf(ProtocolError);
  });

  it('never asked for: a failure raises no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', listener);
    try {
      request().fail(new Error('nobody listens'));
      // Unhandled rejections are reported after the microtask queue drains, on a later turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('keeps the fields the caller gave, with the code, as what the mirror is told', () => {
    const r = request();
    expect(r.init).toEqual({ int32Data0: 4, code: Command.SYSTEM_STATE_GET });
    expect(r.source).toBeNull();
  });
});
