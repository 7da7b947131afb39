import { replyRule } from '../../protocol/command-profile.js';
import { readFile } from 'node:fs/promises';
import { TIMER_RULE } from '../../protocol/options-schema.js';
import type { Command as CliProgram } from 'commander';
import { dataText, encodePacket } from '../../protocol/codec.js';
import { commandName } from '../../protocol/commands.js';
import { DATA_SIZE, STATUS_OK } from '../../protocol/constants.js';
import { Flags, type FlagName } from '../../protocol/flags.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';
import { ConnectError } from '../../transports/tcp.js';
import { isReplyTo, ProbeConnection, ProbeTimeoutError, withCallback } from '../apps/conformance/probe.js';
import { connectGateway } from '../apps/gateway/extension.js';
import { exitWithUsageCode, usageError } from './exit.js';
import { addGatewayClientOptions, GATEWAY_REFUSED, gatewayAccessFromOptions, type GatewayAccess, type GatewayClientCliOptions } from './gateway-client.js';
import { closeMatches, connectAdvice, formatMs, formatPacket, hexCode, packetJson, packetLine } from '../format/format.js';
import { commandFromArgument, ExitCode, integerOption, numberOption, ruleOption, serverAddressOptions, UsageError } from './options.js';

interface SendCliOptions extends GatewayClientCliOptions {
  host: string;
  port: number;
  axis?: number;
  int0?: number;
  int1?: number;
  int2?: number;
  value?: number;
  data?: string;
  payloadFile?: string;
  flag?: string[];
  wait: boolean;
  timeoutMs: number;
  json?: boolean;
}

const I32 = integerOption(-0x80000000, 0x7fffffff);

/** Build the request from the options; every bad value is a UsageError. */
async function buildRequest(code: number, o: SendCliOptions): Promise<PacketInit> {
  if (o.axis !== undefined && o.int0 !== undefined && o.axis !== o.int0) {
    throw new UsageError(`--axis ${o.axis} and --int0 ${o.int0} both set int32Data0; give one`);
  }
  if (o.data !== undefined && Buffer.byteLength(o.data) > DATA_SIZE) {
    throw new UsageError(`--data is ${Buffer.byteLength(o.data)} bytes; the data field holds ${DATA_SIZE} (use --payload-file for more)`);
  }
  let bits = 0;
  for (const name of o.flag ?? []) {
    const upper = name.toUpperCase().replace(/-/g, '_');
    if (!Object.hasOwn(Flags, upper)) {
      const near = closeMatches(name, Object.keys(Flags));
      throw new UsageError(`unknown flag "${name}".${near.length > 0 ? ` Did you mean ${near.join(', ')}?` : ''} Flags: ${Object.keys(Flags).join(', ')}`);
    }
    bits |= Flags[upper as FlagName];
  }
  let payload: Uint8Array | undefined;
  if (o.payloadFile !== undefined) {
    try {
      payload = new Uint8Array(await readFile(o.payloadFile));
    } catch (error) {
      throw new UsageError(`cannot read --payload-file ${o.payloadFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const init: PacketInit = {
    code,
    int32Data0: o.axis ?? o.int0 ?? 0,
    int32Data1: o.int1 ?? 0,
    int32Data2: o.int2 ?? 0,
    value: o.value ?? 0,
    cmdDataBits0: bits >>> 0,
    ...(o.data !== undefined && { data: o.data }),
    ...(payload !== undefined && { payload }),
  };
  return init;
}

/** The sent request as a Packet, for printing with the same helpers as the reply. */
function asPacket(init: PacketInit): Packet {
  const data = new Uint8Array(DATA_SIZE);
  if (init.data !== undefined) data.set(typeof init.data === 'string' ? new TextEncoder().encode(init.data) : init.data);
  return {
    code: init.code ?? 0,
    status: 0,
    hardwareId: 0,
    subsystemId: 0,
    clientId: 0,
    int32Data0: init.int32Data0 ?? 0,
    int32Data1: init.int32Data1 ?? 0,
    int32Data2: init.int32Data2 ?? 0,
    cmdDataBits0: init.cmdDataBits0 ?? 0,
    value: init.value ?? 0,
    addDataBytes: init.payload?.length ?? 0,
    data,
    ...(init.payload !== undefined && { payload: init.payload }),
  };
}

function print(o: SendCliOptions, sent: Packet, reply: Packet | undefined, elapsedMs: number | undefined, note: string | undefined): void {
  if (o.json === true) {
    process.stdout.write(
      `${JSON.stringify({ request: packetJson(sent), reply: reply === undefined ? null : packetJson(reply), ...(elapsedMs !== undefined && { elapsedMs: Math.round(elapsedMs * 10) / 10 }), ...(note !== undefined && { note }) })}\n`,
    );
    return;
  }
  process.stdout.write(`-> ${packetLine(sent, { request: true })}\n`);
  if (note !== undefined) process.stdout.write(`   ${note}\n`);
  if (reply !== undefined && elapsedMs !== undefined) process.stdout.write(`<- reply in ${formatMs(elapsedMs)}\n${formatPacket(reply)}\n`);
}

async function runSend(command: CliProgram, nameOrCode: string, o: SendCliOptions): Promise<number> {
  let code: number;
  let request: PacketInit;
  let access: GatewayAccess;
  try {
    code = commandFromArgument(nameOrCode);
    request = await buildRequest(code, o);
    access = gatewayAccessFromOptions(o);
  } catch (error) {
    if (error instanceof UsageError) usageError(command, error.message);
    throw error;
  }
  const name = commandName(code);
  // LASER_LEVEL_SET, WORKFLOW_START and the like are never acknowledged (spec/commands.json
  // reply "never"): they go out as the vendor GUI sends them (flag set), and waiting would only time out.
  const neverAnswered = replyRule(code) === 'never';
  const wait = o.wait && !neverAnswered;
  const init = wait || (neverAnswered && o.wait) ? withCallback(request) : request;

  let conn: ProbeConnection;
  try {
    // With --token the hello is written before anything else, as connectGateway does for every app.
    conn = ProbeConnection.over(await connectGateway({ host: o.host, port: o.port, connectTimeoutMs: 2000, ...access }), { maxPackets: 10_000 });
  } catch (error) {
    if (error instanceof ConnectError) {
      process.stderr.write(`flamingo send: ${connectAdvice(error, o.host, o.port)}\n`);
      return ExitCode.UNAVAILABLE;
    }
    process.stderr.write(`flamingo send: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.FAILURE;
  }
  try {
    const sent = asPacket(init);
    const from = conn.mark;
    const started = performance.now();
    await conn.write(encodePacket(init));
    if (!wait) {
      const why = neverAnswered
        ? `${name} is not acknowledged by the instrument (spec/commands.json reply "never"); not waiting for a reply`
        : 'sent without TRIGGER_CALL_BACK (--no-wait): no reply expected';
      print(o, sent, undefined, undefined, why);
      return ExitCode.OK;
    }
    let reply: Packet;
    try {
      reply = (await conn.waitFor((p) => isReplyTo(init, p), { from, timeoutMs: o.timeoutMs, what: 'reply' })).packet;
    } catch (error) {
      if (error instanceof ProbeTimeoutError) {
        print(o, sent, undefined, undefined, undefined);
        process.stderr.write(
          `flamingo send: no reply to ${name} (${hexCode(code)}) from ${o.host}:${o.port} within ${o.timeoutMs} ms. The server may not know this command, or be busy; try --timeout-ms, or \`flamingo watch\` to see what it sends.\n`,
        );
        return ExitCode.TIMEOUT;
      }
      // A gateway refuses a wrong or missing token by closing the connection, silently: the
      // hello asks for no reply, and the request behind it is never forwarded.
      if (conn.closed && conn.closeError === undefined && conn.log.length === 0) {
        print(o, sent, undefined, undefined, undefined);
        const why = o.token !== undefined ? GATEWAY_REFUSED : 'the server closed the connection (a gateway with a token does this: pass --token)';
        process.stderr.write(`flamingo send: ${why}; no reply to ${name} from ${o.host}:${o.port}\n`);
        return ExitCode.FAILURE;
      }
      throw error;
    }
    print(o, sent, reply, performance.now() - started, undefined);
    if (reply.status !== STATUS_OK) {
      const text = dataText(reply);
      const detail = text === '' ? '' : `: "${text}"`;
      process.stderr.write(`flamingo send: ${name} failed with status ${reply.status}${detail}\n`);
      return ExitCode.FAILED_STATUS;
    }
    return ExitCode.OK;
  } catch (error) {
    process.stderr.write(`flamingo send: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.FAILURE;
  } finally {
    await conn.close();
  }
}

/** `flamingo send`: send one command and print the decoded reply. */
export function registerSend(program: CliProgram): void {
  const command = addGatewayClientOptions(
    serverAddressOptions(
      program
        .command('send')
        .description('Send one command and print the decoded reply')
        .argument('<command>', 'command name (e.g. STAGE_POSITION_GET, any case) or code (0x6008, 24584)'),
    ),
  )
    .option('--axis <n>', 'stage axis, 1 X, 2 Y, 3 Z, 4 R (sets int32Data0)', integerOption(1, 4))
    .option('--int0 <n>', 'int32Data0 (axis, laser index, LED index, …)', I32)
    .option('--int1 <n>', 'int32Data1', I32)
    .option('--int2 <n>', 'int32Data2', I32)
    .option('--value <x>', 'the f64 value field (position in mm, degrees, …)', numberOption)
    .option('--data <text>', `the ${DATA_SIZE}-byte data field as text (e.g. a laser level "5.00")`)
    .option('--payload-file <file>', 'send this file as the trailing payload (e.g. a workflow for CAMERA_WORKFLOW_START)')
    .option(
      '--flag <names...>',
      `extra cmdDataBits0 flags: ${Object.keys(Flags)
        .filter((f) => f !== 'TRIGGER_CALL_BACK')
        .join(', ')}`,
    )
    .option('--no-wait', 'send without TRIGGER_CALL_BACK and do not wait for a reply')
    .option('--timeout-ms <ms>', 'how long to wait for the reply', ruleOption(TIMER_RULE), 5000)
    .option('--json', 'print the request and reply as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 0 reply status 1 (or sent with --no-wait), 1 the gateway closed the connection (wrong or missing --token),',
        '            2 failure status, 3 no reply in time, 64 bad command line (unknown command: close matches are listed),',
        '            69 cannot connect.',
        'Through a gateway: --token sends its access token first; a refused token ends the connection without a reply,',
        'so --no-wait cannot tell that it was refused.',
        'Examples:',
        '  flamingo send STAGE_POSITION_GET --axis 1',
        '  flamingo send LASER_LEVEL_SET --int0 2 --data 5.00',
        '  flamingo send CAMERA_WORKFLOW_START --payload-file workflow.txt',
        '  flamingo send SYSTEM_STATE_GET --host scope-pc --port 53800 --token s3cret --tls-ca lab-ca.pem',
      ].join('\n'),
    );
  exitWithUsageCode(command).action(async (nameOrCode: string, options: SendCliOptions) => {
    process.exitCode = await runSend(command, nameOrCode, options);
  });
}
