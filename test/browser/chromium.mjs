// chromium.mjs - what the browser tests share: Debian's Chromium in a
// profile of its own with the flags every test needs, and the waits and
// checks they fail with.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

// A persistent context in a new profile named after the test; options go
// to playwright, their args after the common ones. close() also removes
// the profile.
export async function launchChromium(name, { args = [], ...options } = {}) {
  const profile = mkdtempSync(join(tmpdir(), `camfs-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [...ARGS, ...args],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function check(cond, what) {
  if (!cond)
    throw new Error(`check failed: ${what}`);
}

export async function until(page, fn, arg, ms, what) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
  } catch {
    throw new Error(`timed out: ${what}`);
  }
}

// Runs the checks in body, then prints result as JSON. A failure also
// leaves a screenshot of the page (OUTDIR/failure.png), prints the error and
// the page's problems and exits 1. The browser is closed either way.
export async function report(browser, outdir, result, problems, body) {
  let failed = null;
  try {
    await body();
  } catch (e) {
    failed = e;
    try { await browser.context.pages()[0]?.screenshot({ path: join(outdir, 'failure.png') }); } catch { /* gone */ }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
  if (failed) {
    console.error(String(failed.message || failed));
    if (problems.length)
      console.error(problems.join('\n'));
    process.exit(1);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
