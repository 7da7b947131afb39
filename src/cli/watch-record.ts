import type { Command as CliProgram } from 'commander';
import { CaptureWriter } from '../apps/capture/capture-writer.js';
import type { TcpTransport } from '../../transports/tcp.js';

/** A watch session being recorded in the capture format (spec/capture.md). */
export interface WatchRecording {
  /** Bytes the server sent. */
  chunk(bytes: Uint8Array): void;
  /** Close the connection's record and the file. */
  end(reason: string): Promise<void>;
}

/** The option `flamingo watch` gains. */
export function addRecordOption(command: CliProgram): CliProgram {
  return command.option('--record <file.jsonl>', 'also write every packet received to a capture file (flamingo replay / sim --replay read it)');
}

/** Start recording when `--record` was given; the file must open, or this rejects. */
export async function startWatchRecording(file: string | undefined, transport: TcpTransport, host: string, port: number): Promise<WatchRecording | undefined> {
  if (file === undefined) return undefined;
  const writer = new CaptureWriter({
    out: file,
    source: 'flamingo watch',
    upstream: `${host}:${port}`,
    onStop: (message) => process.stderr.write(`flamingo watch: recording stopped: ${message}\n`),
  });
  await writer.opened();
  const s = transport.socket;
  writer.open(1, { host: s.localAddress ?? '127.0.0.1', port: s.localPort ?? 0 }, { host, port });
  return {
    chunk: (bytes) => writer.chunk(1, 's2c', bytes),
    end: async (reason) => {
      writer.close(1, 'client');
      await writer.end(reason);
    },
  };
}
