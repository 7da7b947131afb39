/**
 * Tests that run the built CLI (`node dist/src/cli/main.js …`) call {@link ensureBuilt} in
 * beforeAll: it rebuilds dist with tsc when any compiled source is newer than its output
 * (or the output is missing). Test files run in parallel processes, so the build is
 * serialised by a lock directory: a second process waits for the first build (watching
 * for the lock to go away, no polling sleeps) and then finds nothing stale.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI entry. */
export const cliPath = path.join(root, 'dist/src/cli/main.js');

const SOURCE_DIRS = ['src', 'protocol', 'transports', 'mocks'];

/** Sources whose output is missing or older than the source (first few, for messages). */
export function staleOutputs(limit = 5): string[] {
  const stale: string[] = [];
  const visit = (rel: string) => {
    const full = path.join(root, rel);
    for (const entry of readdirSync(full, { withFileTypes: true })) {
      if (stale.length >= limit) return;
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const out = path.join(root, 'dist', child.replace(/\.ts$/, '.js'));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path.join(root, child)).mtimeMs) stale.push(child);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(root, dir))) visit(dir);
  return stale;
}

const lockDir = path.join(tmpdir(), `flamingo-build-${Buffer.from(root).toString('hex').slice(-24)}.lock`);

function ownerAlive(): boolean {
  try {
    const pid = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but is not ours; anything else: no owner (or no pid file yet).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(): boolean {
  try {
    mkdirSync(lockDir);
    writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

/** Resolves when the lock directory disappears (or after `ms`, so a crashed owner is re-checked). */
function lockReleased(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(path.dirname(lockDir), (_event, name) => {
      if (name === path.basename(lockDir) && !existsSync(lockDir)) done();
    });
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
    if (!existsSync(lockDir)) done();
  });
}

/**
 * Rebuild dist when it is stale. tsc's exit status is not checked: files other sessions
 * are still writing may not typecheck, but tsc emits anyway; what the caller needs is the
 * output, which is checked afterwards.
 */
export async function ensureBuilt(): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (staleOutputs(1).length > 0) {
    if (tryLock()) {
      try {
        if (staleOutputs(1).length > 0) {
          spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
            cwd: root,
            stdio: 'ignore',
          });
        }
      } finally {
        rmSync(lockDir, { recursive: true, force: true });
      }
      break;
    }
    if (!ownerAlive() && existsSync(lockDir)) {
      // The builder died with the lock held; take it over on the next round.
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`waited 180 s for another process's build (lock ${lockDir})`);
    await lockReleased(5000);
  }
  if (!existsSync(cliPath)) throw new Error(`tsc did not produce ${cliPath}`);
}
