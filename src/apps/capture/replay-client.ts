import { commandName } from '../../../protocol/commands.js';
import { Deframer } from '../../../protocol/deframer.js';
import type { Packet } from '../../../protocol/packet.js';
import { connectTcp } from '../../../transports/tcp.js';
import { compareReply, type RequestComparison } from './replay-compare.js';
import { answers, type ReplayScript } from './replay-script.js';

/** Options of {@link replayAgainst}. */
export interface ReplayAgainstOptions {
  host: string;
  port: number;
  /** How long to wait for a reply the recording has (default 5000 ms). */
  replyTimeoutMs?: number;
  /** How long to watch for a reply the recording does not have (default 200 ms). */
  graceMs?: number;
  /** Called with each comparison as it is made. */
  onResult?: (c: RequestComparison) => void;
}

/**
 * Send the client side of a capture to a server, one recorded connection after another,
 * each request as its exact recorded bytes, and compare every reply with the recorded one
 * (spec/capture.md §Replay). A request is sent once the previous one was answered (or its
 * wait ended), so a server answering in order sees the recorded order.
 */
export async function replayAgainst(script: ReplayScript, options: ReplayAgainstOptions): Promise<RequestComparison[]> {
  const results: RequestComparison[] = [];
  const conns = [...new Set(script.exchanges.map((e) => e.conn))];
  let index = 0;
  for (const conn of conns) {
    const transport = await connectTcp({ host: options.host, port: options.port });
    const inbox: Packet[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const deframer = new Deframer();
    transport.attach({
      data: (chunk) => {
        inbox.push(...deframer.push(chunk));
        wake?.();
      },
      close: () => {
        closed = true;
        wake?.();
      },
    });
    const take = async (request: Packet, waitMs: number): Promise<Packet | undefined> => {
      const deadline = performance.now() + waitMs;
      for (;;) {
        const at = inbox.findIndex((p) => answers(request, p));
        if (at >= 0) return inbox.splice(0, at + 1).at(-1);
        const left = deadline - performance.now();
        if (closed || left <= 0) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    };
    try {
      for (const e of script.exchanges.filter((x) => x.conn === conn)) {
        index++;
        if (closed) break;
        await transport.write(e.requestBytes);
        const waitMs = e.reply !== undefined ? (options.replyTimeoutMs ?? 5000) : (options.graceMs ?? 200);
        const now = await take(e.request, waitMs);
        // Pushes that came meanwhile are not compared: they depend on timing, not the request.
        inbox.length = 0;
        const result = compareReply(index, conn, commandName(e.request.code), e.reply, now);
        results.push(result);
        options.onResult?.(result);
      }
    } finally {
      await transport.close();
    }
  }
  return results;
}
