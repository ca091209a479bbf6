/**
 * Shared scaffolding of the scheduled functions' handler tests (daily-refresh,
 * refresh-worker, scheduled-ingest): the keys they are configured with, a memory logger
 * that knows those secrets, and a POST request builder.
 *
 * @module
 */
import { type CpuMeter, createCpuMeter } from "../platform/cpu_meter.ts";
import { createMemoryLogger, type MemoryLogger } from "./memory_logger.ts";

/** A JSON response body, read field by field in the assertions. */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** The service-role key the handlers under test accept. */
export const SERVICE_KEY = "service-role-key-SECRET-0123456789";

/** The TMDB token the handlers under test are configured with. */
export const TMDB_TOKEN = "tmdb-read-token-SECRET-abcdef";

/** The secrets a handler under test must never log or answer with. */
export const TEST_SECRETS: readonly string[] = [SERVICE_KEY, TMDB_TOKEN];

/** A memory logger for function `fn` that redacts {@link TEST_SECRETS}. */
export function memoryLogger(fn: string): MemoryLogger {
  return createMemoryLogger({ fn, secrets: [...TEST_SECRETS] });
}

/**
 * A request builder for `POST /functions/v1/<fn>`: `body` as JSON (a string is sent as is),
 * `Authorization: Bearer <key>` unless `key` is null (default {@link SERVICE_KEY}).
 */
export function postTo(fn: string): (body: unknown, key?: string | null) => Request {
  return (body, key = SERVICE_KEY) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    return new Request(`http://localhost/functions/v1/${fn}`, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  };
}

/**
 * A CPU meter reading `usedMs()` from the test: `() => 0` (the default) never spends the
 * budget, so a handler test does not depend on the CPU the test process has used.
 */
export function testCpuMeter(usedMs: () => number = () => 0): () => CpuMeter {
  return () => createCpuMeter(() => ({ user: usedMs() * 1000, system: 0 }));
}
