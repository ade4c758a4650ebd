import type { Page } from 'playwright-core';
import { appReady } from './app-page.js';
import { APP_ROOT, buildPage } from './build-page.js';
import { type HeadlessChromium, launchChromium } from './chromium.js';
import { type StaticServer, serveFolder } from './static-server.js';

/** The built app open in headless Chromium, with what the page asked the network for and the errors it threw. */
export interface OpenApp {
  server: StaticServer;
  browser: HeadlessChromium;
  page: Page;
  requests: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Builds the app into `outDir`, serves it and opens it at 1280×800, ready for commands. `folderFallback` removes
 * `showDirectoryPicker`, so folders go through the `<input webkitdirectory>` fallback that Playwright can answer.
 */
export async function openApp(outDir: string, options: { folderFallback?: boolean } = {}): Promise<OpenApp> {
  await buildPage(APP_ROOT, outDir);
  const server = await serveFolder(outDir);
  let browser: HeadlessChromium | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const requests: string[] = [];
    const pageErrors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    await appReady(page);
    if (options.folderFallback) {
      await page.evaluate(() => {
        delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker;
      });
    }
    const opened = browser;
    return {
      server,
      browser: opened,
      page,
      requests,
      pageErrors,
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}
