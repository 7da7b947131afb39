import { setTimeout as delay } from 'node:timers/promises';
import { InvalidArgumentError, type Command as CliProgram } from 'commander';
import { Command } from '../../protocol/commands.js';
import { DEFAULT_PORT } from '../../protocol/constants.js';
import type { Packet } from '../../protocol/packet.js';
import { formatLaserLevel } from '../../protocol/laser-level.js';
import {
  moveRange,
  parseTextFormat,
  readScopeType,
  readStageSettings,
  stageAxisList,
  type AxisSettings,
  type TextDocument,
} from '../../protocol/text-format.js';
import { buildWorkflowText } from '../../protocol/workflow-text.js';
import { SimulatedMicroscope } from '../../mocks/simulated-microscope.js';
import { ConnectError } from '../../transports/tcp.js';
import { FlamingoClient } from '../client/client.js';
import { abortOnSignals, exitWithUsageCode } from './exit.js';
import { connectAdvice, formatMs, packetLine } from '../format/format.js';
import { ExitCode, integerOption, numberOption } from './options.js';
import { ProgressView } from './progress-view.js';

interface DemoOptions {
  host?: string;
  port?: number;
  timeScale: number;
  legacy?: boolean;
  mode: 'auto' | 'sequenced' | 'lease';
  moveMm: number;
  planes: number;
  refreshMs: number;
}

const AXIS_NAMES = ['X', 'Y', 'Z', 'R'] as const;
/** Events the progress bars already show; listing each of them would drown the rest. */
const SHOWN_AS_PROGRESS = new Set<number>([Command.UI_SET_GAUGE_VALUE]);

const mm = (n: number) => n.toFixed(3);

/** A few lines about the instrument, from its settings text (whatever of it is there). */
function settingsSummary(doc: TextDocument): string[] {
  const type = readScopeType(doc);
  const details = [type.type, type.objectiveMagnification === undefined ? undefined : `objective ${type.objectiveMagnification}×`].filter(
    (d) => d !== undefined,
  );
  const lines = [`${type.name ?? 'unnamed instrument'}${details.length > 0 ? ` (${details.join(', ')})` : ''}`];
  try {
    const axes = stageAxisList(readStageSettings(doc)).map(moveRange);
    lines.push(`stage limits ${axes.map((a, i) => `${AXIS_NAMES[i]} ${a.min ?? '?'}..${a.max ?? '?'}${i === 3 ? '°' : ' mm'}`).join(', ')}`);
  } catch {
    lines.push('no stage limits in the settings');
  }
  return lines;
}

/** A target `distance` away inside the axis limits (the other way when it would leave them). */
function targetFor(position: number, distance: number, limits: AxisSettings | undefined): number {
  if (limits === undefined) return position + distance;
  const { min, max } = moveRange(limits);
  if (max === undefined || position + distance <= max) return position + distance;
  return min === undefined ? position - distance : Math.max(min, position - distance);
}

/**
 * Move X and Y at once, showing each axis's progress from position reads while they move
 * (the instrument reads 0.000 for a moving axis, so on it the bars jump to 100% at the end).
 * The reads go through the same client as the moves: in sequenced mode they are pipelined,
 * in lease mode they take turns; either way nothing is mixed up.
 */
async function moveTwoAxes(client: FlamingoClient, view: ProgressView, targets: [number, number], signal: AbortSignal, refreshMs: number): Promise<void> {
  const axes = [1, 2] as const;
  const starts = await Promise.all(axes.map((a) => client.stage.position(a)));
  view.log(`Moving the stage: ${axes.map((a, i) => `${AXIS_NAMES[a - 1]} ${mm(starts[i] as number)} → ${mm(targets[i] as number)} mm`).join(', ')}`);
  const bars = axes.map((a, i) => view.bar(AXIS_NAMES[a - 1] as string, 1000, `${mm(starts[i] as number)} mm`));
  const distance = axes.map((_, i) => Math.abs((targets[i] as number) - (starts[i] as number)));
  const started = performance.now();
  let moving = true;
  // Ends the refresh wait the moment both moves settle, so the demo never idles a whole interval after them.
  const settled = new AbortController();
  const moves = Promise.all(
    axes.map(async (axis, i) => {
      const result = await client.stage.moveTo(axis, targets[i] as number, { signal });
      bars[i]?.done(`${mm(result.position)} mm, reached`);
      return result;
    }),
  ).finally(() => {
    moving = false;
    settled.abort();
  });
  moves.catch(() => undefined);
  // The live line: read both positions, redraw, wait a refresh interval, until both stopped.
  while (moving && !signal.aborted) {
    const now = await Promise.all(axes.map((a) => client.stage.position(a).catch(() => undefined)));
    now.forEach((p, i) => {
      // The instrument reads 0.000 while an axis moves (spec/commands.json whileMoving): no news.
      if (p === undefined || p === 0) return;
      const d = distance[i] as number;
      const fraction = d === 0 ? 1 : Math.abs(p - (starts[i] as number)) / d;
      bars[i]?.update(Math.round(fraction * 1000), `${mm(p)} mm`);
    });
    if (!moving) break;
    await delay(refreshMs, undefined, { signal: AbortSignal.any([signal, settled.signal]) }).catch(() => undefined);
  }
  const results = await moves;
  view.log(`Stage at ${results.map((r) => `${AXIS_NAMES[r.axis - 1]} ${mm(r.position)} mm`).join(', ')} after ${formatMs(performance.now() - started)}`);
}

async function runWorkflow(client: FlamingoClient, view: ProgressView, planes: number, signal: AbortSignal): Promise<void> {
  const [x, y, z, r] = await Promise.all([1, 2, 3, 4].map((a) => client.stage.position(a)));
  const text = buildWorkflowText({ numberOfPlanes: planes, start: { x, y, z, r }, comments: 'flamingo demo' });
  view.log(`Acquiring a ${planes}-plane stack at X ${mm(x as number)}, Y ${mm(y as number)}, Z ${mm(z as number)} mm (${text.length}-byte workflow file)`);
  let bar: ReturnType<ProgressView['bar']> | undefined;
  const started = performance.now();
  const result = await client.workflow.start(text, {
    signal,
    onProgress: ({ value, max }) => {
      if (bar === undefined && max > 0) bar = view.bar('stack', max, `0/${max} planes`);
      bar?.update(value, `${value}/${max} planes`);
    },
  });
  bar?.done(`${result.acquired}/${result.expected} planes`);
  view.log(
    `Stack complete: ${result.acquired}/${result.expected} images, ${result.errors} errors, ${formatMs(result.durationUs / 1000)} of acquisition (${formatMs(performance.now() - started)} here)`,
  );
}

async function runDemo(o: DemoOptions): Promise<number> {
  const t0 = performance.now();
  const view = new ProgressView();
  const stop = abortOnSignals();
  const embedded = o.host === undefined && o.port === undefined;
  let sim: SimulatedMicroscope | undefined;
  let client: FlamingoClient | undefined;
  let host = o.host ?? '127.0.0.1';
  let port = o.port ?? DEFAULT_PORT;
  try {
    if (embedded) {
      // The demo opts into the sequenced extension to show pipelining; --legacy keeps the
      // instrument's own behaviour (no sequence echo, lease mode).
      sim = new SimulatedMicroscope({ echoSequence: o.legacy !== true, timeScale: o.timeScale });
      ({ host, port } = await sim.listen({ port: 0, host: '127.0.0.1' }));
      const speed = o.timeScale === 1 ? 'real speed' : `${o.timeScale}× speed`;
      const flavour =
        o.legacy === true ? 'like the instrument: no sequence echo' : 'sequenced extension on to show pipelining; the instrument echoes no sequence (--legacy)';
      view.log(`Started the embedded simulator on ${host}:${port} (${flavour}, ${speed}); --host/--port use a real server instead`);
    }
    try {
      client = await FlamingoClient.connect({ host, port, mode: o.mode });
    } catch (error) {
      if (error instanceof ConnectError) {
        process.stderr.write(`flamingo demo: ${connectAdvice(error, host, port)}\n`);
        return ExitCode.UNAVAILABLE;
      }
      throw error;
    }
    const why =
      client.mode === 'sequenced'
        ? 'the server echoes sequence numbers, so requests are pipelined and each reply finds its request by number'
        : 'the server echoes no sequence number, so one request is in flight at a time and replies are matched by code and axis/laser';
    view.log(`Connected to ${host}:${port}: ${client.mode} mode (${why})`);
    client.on('event', (packet: Packet) => {
      if (!SHOWN_AS_PROGRESS.has(packet.code)) view.log(`  event  ${packetLine(packet, { labels: true })}`);
    });

    const settings = parseTextFormat(await client.settings());
    let limits: AxisSettings[] | undefined;
    try {
      limits = stageAxisList(readStageSettings(settings));
    } catch {
      limits = undefined;
    }
    const [x0, y0] = await Promise.all([client.stage.position(1), client.stage.position(2)]);
    const targets: [number, number] = [targetFor(x0, o.moveMm, limits?.[0]), targetFor(y0, o.moveMm * 1.25, limits?.[1])];
    await moveTwoAxes(client, view, targets, stop.signal, o.refreshMs);
    await runWorkflow(client, view, o.planes, stop.signal);

    const connected = client;
    const levels = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        connected.lasers.level(i).then(
          (v) => `laser ${i} ${formatLaserLevel(v)} %`,
          (e: Error) => `laser ${i}: ${e.message}`,
        ),
      ),
    );
    view.log(`Laser levels: ${levels.join(', ')}`);
    const summary = settingsSummary(settings);
    view.log(`Settings: ${summary[0]}`);
    for (const line of summary.slice(1)) view.log(`  ${line}`);
    view.log(
      `Demo finished in ${formatMs(performance.now() - t0)}. Next: \`flamingo sim\` in one terminal, \`flamingo watch\` and \`flamingo send\` in others.`,
    );
    return ExitCode.OK;
  } catch (error) {
    view.stop();
    if (stop.signal.aborted) {
      // Leave the instrument still: a move or acquisition the demo started is stopped.
      await client?.stage.halt().catch(() => undefined);
      await client?.send(Command.CAMERA_WORKFLOW_STOP).catch(() => undefined);
      process.stderr.write(`flamingo demo: stopped by ${stop.received() ?? 'a signal'}; stage halted\n`);
      return 130;
    }
    process.stderr.write(`flamingo demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.FAILURE;
  } finally {
    view.stop();
    stop.dispose();
    await client?.close();
    await sim?.close();
  }
}

function correlationMode(text: string): DemoOptions['mode'] {
  if (text !== 'auto' && text !== 'sequenced' && text !== 'lease') throw new InvalidArgumentError('expected auto, sequenced or lease');
  return text;
}

/** `flamingo demo`: what `npm start` runs; a tour of the library against the embedded simulator. */
export function registerDemo(program: CliProgram): void {
  const command = program
    .command('demo')
    .description('Tour the library: embedded simulator, auto mode, stage moves with live positions, events, a workflow with progress, lasers, settings')
    .option('--host <host>', 'use this server instead of the embedded simulator')
    .option('--port <port>', 'command port of that server', integerOption(1, 65535))
    .option('--time-scale <x>', 'speed of the embedded simulator (motion and workflows)', numberOption, 1)
    .option('--legacy', 'embedded simulator behaves like published firmware (no sequence echo: lease mode)')
    .option('--mode <mode>', 'auto (probe), sequenced or lease', correlationMode, 'auto')
    .option('--move-mm <mm>', 'how far to move X (Y moves 1.25× as far)', numberOption, 2)
    .option('--planes <n>', 'planes of the demo stack', integerOption(1, 10_000), 80)
    .option('--refresh-ms <ms>', 'how often the live position line reads the stage', integerOption(10, 10_000), 100);
  exitWithUsageCode(command).action(async (options: DemoOptions) => {
    process.exitCode = await runDemo(options);
  });
}
