/**
 * Child processes the benches measure against: the built `flamingo` CLI (as a user starts
 * it) and small node:net floors (an echo server, a byte pipe), each in its own process so
 * that none shares the measuring process's event loop. Also a raw node:net load driver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { encodePacket } from '../protocol/codec.js';
import { Command } from '../protocol/commands.js';
import { PACKET_SIZE } from '../protocol/constants.js';
import { pinServerProcess } from './pinning.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** The echo server's listening socket (the floor's whole request path). */
const ECHO_SERVER_CORE = `const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let tail = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    const bytes = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % 128);
    if (whole > 0) {
      const out = Buffer.from(bytes.subarray(0, whole));
      for (let o = 0; o < whole; o += 128) {
        out.writeUInt32LE(1, o + 8);
        out.writeUInt32LE(out.readUInt32LE(o + 36) & 0x7fffffff, o + 36);
      }
      socket.write(out);
    }
    tail = Buffer.from(bytes.subarray(whole));
  });
  socket.on('error', () => {});
});
`;

/**
 * The floor of any server of this protocol: answers every whole 128-byte packet with a copy
 * (status 1, callback flag cleared, every other field echoed), one write per chunk read.
 */
export const ECHO_SERVER = `const net = require('node:net');
${ECHO_SERVER_CORE}server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));`;

/**
 * The floor any relay pays: a byte pipe between two sockets in its own process, with no
 * parsing at all (on a loaded 2-core machine each extra process hop costs a context switch
 * per direction, which the gateway pays too).
 */
export const PIPE_PROXY = `const net = require('node:net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const server = net.createServer((c) => {
  const u = net.connect(port, host);
  c.setNoDelay(true); u.setNoDelay(true);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
});
server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => process.exit(0));`;

/**
 * The floor of a relay that parses (issue 14): frames whole 128-byte headers, replaces the
 * three sequence fields with its own upstream sequence, hands each reply back to its
 * sender in order of the requests (one upstream link, replies in request order, as the
 * lease-mode simulator gives them) with the sender's fields put back. Headers only, no
 * payloads, no timeouts, no events: it measures what re-stamping raw bytes costs over a
 * bare pipe, i.e. what a gateway forwarding fast path could reach at best.
 */
export const RESTAMP_RELAY = `const net = require('node:net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const upstream = net.connect(port, host);
upstream.setNoDelay(true);
const asked = [];
let sequence = 0;
function wholeHeaders(state, chunk, each) {
  const bytes = state.tail.length > 0 ? Buffer.concat([state.tail, chunk]) : chunk;
  const whole = bytes.length - (bytes.length % 128);
  for (let o = 0; o < whole; o += 128) each(Buffer.from(bytes.subarray(o, o + 128)));
  state.tail = Buffer.from(bytes.subarray(whole));
}
const fromUpstream = { tail: Buffer.alloc(0) };
upstream.on('data', (chunk) => wholeHeaders(fromUpstream, chunk, (reply) => {
  const who = asked.shift();
  if (who === undefined) return;
  reply.writeUInt32LE(who.hardwareId, 12); reply.writeUInt32LE(who.subsystemId, 16); reply.writeUInt32LE(who.clientId, 20);
  who.socket.write(reply);
}));
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const fromClient = { tail: Buffer.alloc(0) };
  socket.on('data', (chunk) => wholeHeaders(fromClient, chunk, (request) => {
    asked.push({ socket, hardwareId: request.readUInt32LE(12), subsystemId: request.readUInt32LE(16), clientId: request.readUInt32LE(20) });
    sequence = (sequence + 1) >>> 0;
    request.writeUInt32LE(0, 12); request.writeUInt32LE(0, 16); request.writeUInt32LE(sequence, 20);
    upstream.write(request);
  }));
  socket.on('error', () => {});
});
upstream.once('connect', () => server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port)));
process.on('SIGTERM', () => process.exit(0));`;

/** A started child process and the port from its `listening on HOST:PORT` line. */
export interface Started {
  child: ChildProcess;
  port: number;
}

/**
 * Start `flamingo <args>` (or `node -e SOURCE …` when args[0] is '-e') and resolve with the
 * port of its `listening on HOST:PORT` line. Output after that line is read and discarded
 * (a child logging to a pipe nobody reads would block), never accumulated.
 */
export function startProcess(args: string[], nodeFlags: string[] = []): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, ...(args[0] === '-e' ? args : [CLI, ...args])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let listening = false;
    const timer = setTimeout(() => fail(new Error(`${args.join(' ').slice(0, 40)} did not start: ${out}${err}`)), 15_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      if (err.length < 10_000) err += s;
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      if (listening) return;
      out += s;
      const m = /^listening on [^\n]*:(\d+)$/m.exec(out);
      if (m !== null) {
        listening = true;
        clearTimeout(timer);
        pinServerProcess(child.pid);
        child.removeAllListeners('exit');
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', () => fail(new Error(`${args[0] ?? ''} exited: ${err}`)));
  });
}

/** Stop a child with SIGTERM and wait for it to exit. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Resident set size of a process in bytes (Linux /proc), or NaN elsewhere. */
export function residentBytes(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A raw node:net load driver: one connection sending SYSTEM_STATE_GET with the callback flag. */
export class RawDriver {
  private readonly packet: Buffer;
  private constructor(private readonly socket: net.Socket) {
    this.packet = Buffer.from(encodePacket({ code: Command.SYSTEM_STATE_GET, clientId: 1, cmdDataBits0: 0x80000000 }));
  }

  static connect(port: number): Promise<RawDriver> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ port, host: '127.0.0.1', noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawDriver(socket));
      });
    });
  }

  /**
   * `count` round trips with `window` requests outstanding. `onMark(done, now)` is called
   * after every `markEvery` replies (for rates along a long run). Resolves with elapsed ms.
   */
  run(count: number, window: number, markEvery = 0, onMark?: (done: number, now: number) => void): Promise<number> {
    const socket = this.socket;
    const packet = this.packet;
    return new Promise((resolve, reject) => {
      let sent = 0;
      let received = 0;
      let pendingBytes = 0;
      const start = performance.now();
      const onData = (chunk: Buffer) => {
        pendingBytes += chunk.length;
        while (pendingBytes >= PACKET_SIZE) {
          pendingBytes -= PACKET_SIZE;
          received++;
          if (markEvery > 0 && received % markEvery === 0) onMark?.(received, performance.now());
          if (sent < count) {
            sent++;
            socket.write(packet);
          }
        }
        if (received >= count) {
          socket.off('data', onData);
          socket.off('error', onError);
          resolve(performance.now() - start);
        }
      };
      const onError = (error: Error) => {
        socket.off('data', onData);
        reject(error);
      };
      socket.on('data', onData);
      socket.once('error', onError);
      for (; sent < Math.min(window, count); sent++) socket.write(packet);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * CPU time (user + system, µs) a process has used so far, from Linux /proc; NaN elsewhere.
 * CPU time per request is far less sensitive to a neighbour's load than wall time.
 */
export function cpuMicros(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (µs) the main thread of a process (its event loop) has run so far, from Linux
 * /proc/PID/task/PID/schedstat (nanoseconds, unlike the 10 ms ticks of /proc/PID/stat);
 * NaN elsewhere. The relay's work on a request's path is its main thread's.
 */
export function mainThreadCpuMicros(pid: number | undefined): number {
  try {
    return Number(readFileSync(`/proc/${String(pid)}/task/${String(pid)}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ on Linux: 100 on every mainstream build. */
const CLOCK_TICKS_PER_SECOND = 100;
