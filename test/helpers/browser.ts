import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Where the console tests write their screenshots: docs/console/ (committed, linked from the
 * README) when OPENSTAGE_CONSOLE_SCREENSHOTS=docs, else a temporary folder, so that a test run
 * leaves the work tree as it was.
 */
export const SCREENSHOTS =
  process.env.OPENSTAGE_CONSOLE_SCREENSHOTS === 'docs' ? resolve(new URL('../../../docs/console', import.meta.url).pathname) : join(tmpdir(), 'openstage-console-screenshots');

/** Debian's Chromium (installed by .ci/run); a browser download is not possible here. */
export const CHROMIUM = process.env.OPENSTAGE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Starts headless Chromium, closed when the test ends. Playwright gives every launch a fresh,
 * empty profile (--user-data-dir in a new temporary folder) of its own. The flags keep it off
 * the network (this machine refuses everything but loopback) and quiet.
 */
export async function launchBrowser(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  return browser;
}

/** A page at 1280×800 whose console errors fail the test (collected in `errors`). */
export async function openPage(browser: Browser, width = 1280, height = 800): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, errors };
}

/** Writes docs/console/<name>.png of what the page shows now (animations settled). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}
