import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

// Debian's Chromium, driven by playwright-core (no browser download). Required, like PostgreSQL.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-results/screenshots');

/** Launches Chromium; every page opened through it is watched for errors (see expectNoPageErrors). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is required at ${CHROMIUM} for the browser tests (apt-get install chromium; .ci/run installs it).`);
  await mkdir(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives each launch a fresh temporary profile (--user-data-dir) itself.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // browser.newPage goes through newContext too, so this sees every page a test opens.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on('page', (page) => void pageErrors(page));
    return context;
  };
  return browser;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** What the pages opened since the last check logged as errors, each with the page's address. */
const logged: string[] = [];

/** Collects what the page logs as errors (uncaught exceptions and console.error, failed loads included). */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  const record = (text: string) => {
    errors.push(text);
    logged.push(`${page.url()}: ${text}`);
  };
  page.on('pageerror', (e) => record(String(e)));
  page.on('console', (m) => m.type() === 'error' && record(m.text()));
  return errors;
}

/**
 * After each browser test: the pages it opened logged no error (README: "0 console errors").
 * `ignore` names what a test accepts, and why, at its call.
 */
export function expectNoPageErrors(ignore?: RegExp): void {
  const errors = logged.splice(0).filter((e) => !ignore?.test(e));
  expect(errors, 'errors the pages logged').toEqual([]);
}
