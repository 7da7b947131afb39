import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import createDebug from 'debug';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, TimeoutError, encodePacket, type Packet } from 'flamingo-protocol';
import { connectFake, outcome, type Harness } from '../support/client-harness.js';

const open: Harness[] = [];
const originalLog = createDebug.log;
let lines: string[] = [];

/** Capture every debug line written while `namespaces` are enabled (plain text, no colours). */
function capture(namespaces: string): void {
  lines = [];
  createDebug.enable(namespaces);
  createDebug.log = (...args: unknown[]) => {
    lines.push(format(...args));
  };
}

afterEach(async () => {
  createDebug.disable();
  createDebug.log = originalLog;
  for (const h of open.splice(0)) await h.cleanup();
});

async function harness(mode: 'sequenced' | 'lease'): Promise<Harness> {
  const h = await connectFake('memory', mode);
  open.push(h);
  return h;
}

function matching(pattern: RegExp): string[] {
  return lines.filter((l) => pattern.test(l));
}

describe('routing log (DEBUG=flamingo:*)', () => {
  it('sequenced: one line per write, matched reply, event, late reply and resync', async () => {
    const { client, server } = await harness('sequenced');
    let held: Packet | null = null;
    server.handler = (packet, connection) => {
      if (packet.code === Command.STAGE_POSITION_GET && held === null) held = packet;
      else server.autoReply(packet, connection);
    };
    capture('flamingo:*');
    await client.request(Command.SYSTEM_STATE_GET);
    expect(await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 }, { timeoutMs: 30 }))).toMatchObject({
      ok: false,
      error: expect.any(TimeoutError),
    });
    const unmatched = new Promise((resolve) => client.once('unmatched', resolve));
    server.connection.write(server.connection.reply(held as unknown as Packet));
    await unmatched;
    const resync = new Promise((resolve) => client.once('resync', resolve));
    server.connection.write(Uint8Array.of(9, 9, 9), encodePacket({ code: Command.STAGE_MOTION_STOPPED, int32Data0: 1 }));
    await resync;

    expect(matching(/flamingo:wire write SYSTEM_STATE_GET \(0x\w+\) sequence \d+, 0 payload bytes/)).toHaveLength(1);
    expect(matching(/flamingo:correlation reply SYSTEM_STATE_GET sequence \d+ -> its request \(echoed sequence and code match\)/)).toHaveLength(1);
    expect(matching(/flamingo:correlation STAGE_POSITION_GET sequence \d+ timed out; tombstone kept/)).toHaveLength(1);
    expect(matching(/flamingo:correlation unmatched STAGE_POSITION_GET sequence \d+ \(late reply: its request timed out or was aborted\)/)).toHaveLength(1);
    expect(matching(/flamingo:wire resync on .*: skipped 3 bytes of garbage/)).toHaveLength(1);
    expect(matching(/flamingo:correlation event STAGE_MOTION_STOPPED \(no pending request claims it\)/)).toHaveLength(1);
  });

  it('lease: the late code, the fence sent and the fence passed', async () => {
    const { client, server } = await harness('lease');
    server.handler = (packet, connection) => {
      if (packet.code !== Command.STAGE_POSITION_GET) server.autoReply(packet, connection);
    };
    capture('flamingo:correlation,flamingo:wire');
    await outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }, { timeoutMs: 30 }));
    await client.request(Command.LASER_LEVEL_GET, { int32Data0: 1 });
    expect(matching(/flamingo:wire write STAGE_POSITION_GET \(0x\w+\) under the lease/)).toHaveLength(1);
    expect(matching(/flamingo:correlation STAGE_POSITION_GET timed out after being written; its code is late until a fence passes/)).toHaveLength(1);
    expect(matching(/flamingo:correlation fence \w+ sent \(late: STAGE_POSITION_GET\)/)).toHaveLength(1);
    expect(matching(/flamingo:correlation fence \w+ passed: no earlier reply is still coming \(late codes cleared: STAGE_POSITION_GET\)/)).toHaveLength(1);
    expect(matching(/reply LASER_LEVEL_GET -> the request holding the lease/)).toHaveLength(1);
  });

  it('writes nothing when no namespace is enabled', async () => {
    const { client } = await harness('sequenced');
    capture('');
    await client.request(Command.SYSTEM_STATE_GET);
    expect(lines).toEqual([]);
  });

  it('enables one namespace without the others', async () => {
    const { client } = await harness('sequenced');
    capture('flamingo:wire');
    await client.request(Command.SYSTEM_STATE_GET);
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/flamingo:wire write SYSTEM_STATE_GET/);
  });

  it('every call of a routing logger in src/ is guarded by its enabled flag (free when off)', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk('src');
    const unguarded: string[] = [];
    let calls = 0;
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      const loggers = [...source.matchAll(/const (\w+) = createDebug\(/g)].map((m) => m[1] as string);
      for (const logger of loggers) {
        source.split('\n').forEach((line, i) => {
          const call = new RegExp(`\\b${logger}\\(`);
          if (!call.test(line) || line.includes('createDebug(')) return;
          calls++;
          const guard = new RegExp(`${logger}\\.enabled`);
          // The guard is on the same line, on a brace-less `if` just before, or on the `if` that opens the block around it: walk
          // back to the line holding that block's opening brace, however the formatter wrapped
          // the lines in between.
          const lines = source.split('\n');
          let opener = '';
          let depth = 0;
          for (let j = i - 1; j >= 0 && opener === ''; j--) {
            const text = lines[j] as string;
            for (let k = text.length - 1; k >= 0; k--) {
              if (text[k] === '}') depth++;
              else if (text[k] === '{' && depth-- === 0) {
                opener = text;
                break;
              }
            }
          }
          // A brace-less `if (log.enabled)` sits on one of the lines just before the call.
          const before = lines.slice(Math.max(0, i - 3), i).join('\n');
          if (!guard.test(line) && !guard.test(before) && !guard.test(opener)) unguarded.push(`${file}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(calls).toBeGreaterThan(10);
    expect(unguarded).toEqual([]);
  });
});
