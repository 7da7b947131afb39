import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flamingo-capture-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temporary directory, removed after the test (its cleanup joins `cleanups`), and a
 * function that writes a file into it and returns the file's path (PEM files for the CLI).
 */
export function tempFiles(cleanups: (() => unknown)[]): { dir: string; write: (name: string, text: string) => string } {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return {
    dir,
    write: (name, text) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    },
  };
}

/** A raw TCP peer that collects what it receives and can wait for a byte count. */
export class RawPeer {
  readonly received: Buffer[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  ended = false;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.received.push(c);
      this.check();
    });
    socket.on('end', () => {
      this.ended = true;
    });
  }
  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }
  /** Wait until at least `n` bytes arrived. */
  waitBytes(n: number, ms = 10_000): Promise<void> {
    if (this.bytes.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.bytes.length} of ${n} bytes within ${ms} ms`)), ms);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
  private check(): void {
    const have = this.bytes.length;
    this.waiters = this.waiters.filter((w) => {
      if (have < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

/** Connect a raw peer to 127.0.0.1:port. */
export function connectRaw(port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host: '127.0.0.1', port }, () => resolve(new RawPeer(s)));
    s.once('error', reject);
  });
}

/** `which name` without a shell: the absolute path, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/**
 * Whether a test that needs an external program runs: yes when it is installed; when it is
 * missing the test is skipped, unless FLAMINGO_REQUIRE_TOOLS=1 (set by .ci/run, which
 * installs them), where a missing tool fails the run instead of silently skipping.
 */
export function toolAvailable(name: string): boolean {
  if (which(name) !== null) return true;
  if (process.env.FLAMINGO_REQUIRE_TOOLS === '1') throw new Error(`${name} is required (FLAMINGO_REQUIRE_TOOLS=1) but not installed`);
  return false;
}
