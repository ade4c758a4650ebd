import type { AdapterDescription, SelfTestResult } from '@nephron/tensor';

/** What the harness page leaves on `window.nephronHarness` (and prints into `#result`). */
export interface HarnessResult {
  ok: boolean;
  userAgent: string;
  adapter: AdapterDescription | null;
  features: string[];
  selfTest: SelfTestResult | null;
  /** Why the run failed before the kernel could be checked, e.g. no adapter. */
  error: string | null;
}
