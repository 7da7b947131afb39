/**
 * The dashboard as a person uses it: Debian's chromium (headless, through puppeteer-core)
 * opens the gateway's page; another client moves the stage; the page shows the new
 * position without a reload. .ci/run installs /usr/bin/chromium when it is missing.
 * `UPDATE_DOCS_SCREENSHOT=1` also writes docs/dashboard.png (the README's picture).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { Command } from 'flamingo-protocol';
import { stacksCleanedUpAfterEach } from '../support/gateway-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const startStack = stacksCleanedUpAfterEach();

async function launch(userDataDir: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

describe('dashboard in a browser', () => {
  it('shows a move made by another client, live, and saves a screenshot', { timeout: 90_000 }, async () => {
    const stack = await startStack({ sim: { liveFrameWidth: 192, liveFrameHeight: 128 }, gateway: { http: { port: 0 } } });
    const dir = await mkdtemp(join(tmpdir(), 'flamingo-dashboard-'));
    const browser = await launch(join(dir, 'profile'));
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 820 });
      await page.goto(`http://127.0.0.1:${stack.gateway.address.httpPort as number}/`, { waitUntil: 'load' });
      await page.waitForFunction(() => document.getElementById('link')?.textContent?.startsWith('connected') === true, { timeout: 20_000 });

      const app = await stack.client();
      // A live viewer through the gateway, so the relay passes frames the page can show.
      const viewer = await app.live({ port: stack.gateway.address.livePort as number });
      await app.send(Command.CAMERA_LIVE_VIEW_START);
      await viewer.nextFrame(10_000);
      await app.lasers.setLevel(1, 35.5);
      await app.stage.moveTo(1, 3.25);
      await app.stage.moveTo(3, 12.5);

      // The page may first show a state with x moved and z not yet (the moves are two updates):
      // wait for both, then check the exact texts.
      await page.waitForFunction(
        () => document.getElementById('pos-x')?.textContent === '3.2500' && document.getElementById('pos-z')?.textContent === '12.5000',
        { timeout: 20_000 },
      );
      expect(await page.$eval('#pos-x', (el) => el.textContent)).toBe('3.2500');
      expect(await page.$eval('#pos-z', (el) => el.textContent)).toBe('12.5000');
      expect(await page.$eval('#moving-x', (el) => el.textContent)).toBe('');
      await page.waitForFunction(() => document.getElementById('frame-text')?.textContent?.startsWith('frame ') === true, { timeout: 20_000 });
      await page.waitForFunction(
        () =>
          (document.getElementById('frame') as HTMLImageElement | null)?.complete === true &&
          (document.getElementById('frame') as HTMLImageElement).naturalWidth === 192,
        { timeout: 20_000 },
      );
      const events = await page.$$eval('#events tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
      expect(events).toContain('STAGE_MOTION_STOPPED');
      expect(await page.$eval('#sessions', (el) => el.textContent)).toBe('1');

      const shot = join(dir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(10_000);
      if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await copyFile(shot, 'docs/dashboard.png');

      await app.send(Command.CAMERA_LIVE_VIEW_STOP);
      await viewer.close();
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
