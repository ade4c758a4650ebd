import type { Page } from 'playwright-core';
import type { RunResult } from '../web/app.js';
import type { NephronPage } from '../web/main.js';

type AppWindow = Window & { nephron: NephronPage };

/** Waits until the app has started (its console answers). */
export async function appReady(page: Page): Promise<void> {
  await page.locator('body[data-state="idle"]').waitFor({ timeout: 60_000 });
}

/** How many command lines the page has run so far. */
function runCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as AppWindow).nephron.runs.length);
}

/** Waits for the page to finish the command line after the first `before`, and returns it. */
export async function nextRun(page: Page, before: number, timeout = 90_000): Promise<RunResult> {
  await page.waitForFunction(
    (n) => (window as unknown as AppWindow).nephron.runs.length > n && document.body.dataset.state === 'idle',
    before,
    { timeout },
  );
  return page.evaluate((n) => (window as unknown as AppWindow).nephron.runs[n], before);
}

/** Types a command line into the console as a user does, presses Enter and waits for it to finish. */
export async function typeCommand(page: Page, line: string, timeout?: number): Promise<RunResult> {
  const before = await runCount(page);
  const input = page.locator('#command');
  await input.fill(line);
  await input.press('Enter');
  return nextRun(page, before, timeout);
}

/** Clicks a button that opens a file dialog and answers the dialog with `paths` (files or one folder). */
export async function chooseFiles(page: Page, button: string, paths: string | string[]): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(button)]);
  await chooser.setFiles(paths);
}

/** Clicks a button whose work ends in a command line, and returns that run. */
export async function clickAndRun(
  page: Page,
  action: () => Promise<void>,
  timeout?: number,
): Promise<RunResult> {
  const before = await runCount(page);
  await action();
  return nextRun(page, before, timeout);
}

/** The bytes behind an output's download link, fetched the way the user's download gets them. */
export async function downloadOutput(page: Page, path: string): Promise<Uint8Array> {
  const link = page.locator(`#outputs a[data-path="${path}"]`);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** The bytes of a file a command wrote in the page (read from its private file system), for comparisons. */
export async function outputBytes(page: Page, path: string): Promise<Uint8Array> {
  const base64 = await page.evaluate(async (p) => {
    const file = await (window as unknown as AppWindow).nephron.files.outputs.read(p);
    if (!file) return null;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }, path);
  if (base64 === null) throw new Error(`the page wrote no ${path}`);
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** A text file a command wrote in the page. */
export async function outputText(page: Page, path: string): Promise<string> {
  return new TextDecoder().decode(await outputBytes(page, path));
}
