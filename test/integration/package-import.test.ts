/**
 * The BUILT package (dist/, made by `npm install` / `npm ci` through "prepare") imports by
 * its own name, through the "exports" map, from a plain Node process: no vitest alias.
 * dist/ is rebuilt first when any source is newer than its output, so the test never
 * passes against a stale build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, staleOutputs } from '../support/build.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));

function runNode(source: string): string {
  if (!existsSync(entry)) {
    throw new Error(`dist/src/index.js is missing: build the package first (npm run build; npm install / npm ci run it through "prepare")`);
  }
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: root, encoding: 'utf8', timeout: 15_000 });
}

describe('the built package', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 200_000);

  it('is current: no source is newer than its output', () => {
    expect(staleOutputs()).toEqual([]);
  });

  it("keeps the simulator out of the root: it imports as 'flamingo-protocol/sim'", () => {
    const out = runNode(`
      import * as root from 'flamingo-protocol';
      import { SimulatedMicroscope, parseFaultSpec } from 'flamingo-protocol/sim';
      console.log(JSON.stringify({ inRoot: 'SimulatedMicroscope' in root, sim: typeof SimulatedMicroscope, faults: parseFaultSpec('drop=0.5').drop }));
    `);
    expect(JSON.parse(out.trim())).toEqual({ inRoot: false, sim: 'function', faults: 0.5 });
  });

  it("imports as 'flamingo-protocol' and decodes what it encodes", () => {
    const out = runNode(`
      import { decodePacket, encodePacket, Command, Deframer } from 'flamingo-protocol';
      const p = decodePacket(encodePacket({ code: Command.STAGE_POSITION_GET, int32Data0: -3, value: 2.5 }));
      const d = new Deframer();
      console.log(JSON.stringify({ code: p.code, axis: p.int32Data0, value: p.value, packets: d.push(encodePacket({ code: 1 })).length }));
    `);
    expect(JSON.parse(out.trim())).toEqual({ code: 0x6008, axis: -3, value: 2.5, packets: 1 });
  });

  it('its command table equals spec/commands.json exactly', () => {
    const out = runNode(`
      import { COMMANDS, Command, commandsDocument } from 'flamingo-protocol';
      console.log(JSON.stringify({ doc: commandsDocument(), names: Object.keys(Command), count: COMMANDS.length }));
    `);
    const built = JSON.parse(out) as { doc: { commands: { name: string; code: number }[] }; names: string[]; count: number };
    const spec = JSON.parse(readFileSync(fileURLToPath(new URL('../../spec/commands.json', import.meta.url)), 'utf8')) as typeof built.doc;
    expect(built.doc).toEqual(spec);
    expect(built.names).toEqual(spec.commands.map((c) => c.name));
    expect(built.count).toBe(spec.commands.length);
  });

  it('ships type declarations where "exports" points', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
      name: string;
      exports: Record<'.' | './sim', { types: string; import: string }>;
    };
    expect(pkg.name).toBe('flamingo-protocol');
    for (const entry of [pkg.exports['.'], pkg.exports['./sim']]) {
      expect(existsSync(fileURLToPath(new URL(`../../${entry.types}`, import.meta.url)))).toBe(true);
      expect(existsSync(fileURLToPath(new URL(`../../${entry.import}`, import.meta.url)))).toBe(true);
    }
  });
});
