import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

// Debian's package (`apt-get install -y chromium`); Playwright's own download needs the internet.
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium with the flags a closed network needs: without the background-networking
 * ones it keeps dialling out. Playwright gives every launch a fresh temporary profile (it
 * refuses a --user-data-dir of ours in `launch`), so no state leaks between runs.
 */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get update && apt-get install -y chromium (.ci/run does this)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
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
