/** Placeholder replaced below. */
import type { StackConfig, StackInfo } from "./lib/stack_config.ts";
export function runMainJob(_cfg: StackConfig, _info: StackInfo): Promise<number> {
  return Promise.resolve(0);
}
