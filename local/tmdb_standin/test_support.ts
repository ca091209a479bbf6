/**
 * Helpers for the stand-in's HTTP-level tests: a stand-in started for one test, TMDB-style
 * requests and assertions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startTmdbStandin, type TmdbStandin, type TmdbStandinOptions } from "./server.ts";

/** Parsed JSON of unknown shape (tests index into it freely). */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** The simulated now of the HTTP tests. */
export const NOW = new Date("2026-03-01T12:00:00Z");
/** The token the test stand-ins accept. */
export const TOKEN = "test-read-access-token";
/** Authorization header with {@link TOKEN}. */
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** Runs `fn` with a stand-in (2000 movies, token auth, clock at {@link NOW}), then closes it. */
export async function withStandin(
  options: TmdbStandinOptions,
  fn: (s: TmdbStandin) => Promise<void>,
): Promise<void> {
  const standin = await startTmdbStandin({
    port: 0,
    size: 2000,
    token: TOKEN,
    now: () => NOW,
    ...options,
  });
  try {
    await fn(standin);
  } finally {
    await standin.close();
  }
}

/** GET an API path (relative to `/3`), parsed as JSON. */
export async function get(
  s: TmdbStandin,
  path: string,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), headers: res.headers };
}

/** A control API call: GET without a body, POST with one; the JSON answer plus `status`. */
export async function control(s: TmdbStandin, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${s.origin}/__control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  return { status: res.status, ...json };
}

/** Asserts a TMDB error body with this HTTP status and status_code. */
export function assertTmdbError(r: { status: number; body: Json }, http: number, code: number) {
  assert.equal(r.status, http, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(r.body.status_code, code);
  assert.equal(typeof r.body.status_message, "string");
}

/** A stand-in started as a process (the CLI), read line by line until its `listening` line. */
export interface StandinProcess {
  /** The child process. */
  child: Deno.ChildProcess;
  /** The `listening` line, parsed. */
  listening: Json;
  /** Milliseconds from spawning to the `listening` line. */
  startMs: number;
  /** Peak resident memory of the process so far, MB (Linux `VmHWM`; null elsewhere). */
  peakRssMb(): Promise<number | null>;
  /** Current resident memory, MB (Linux `VmRSS`; null elsewhere). */
  rssMb(): Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `server.ts` with `args` (plus `--port 0 --quiet`) as a process. */
export async function spawnStandin(args: string[]): Promise<StandinProcess> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./server.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--quiet",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!buffer.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stand-in exited before listening: ${buffer}`);
    buffer += value;
  }
  const startMs = performance.now() - started;
  const listening = JSON.parse(buffer.slice(0, buffer.indexOf("\n")));
  const status = async (field: string): Promise<number | null> => {
    try {
      const text = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
      return m ? Math.round(Number(m[1]) / 1024) : null;
    } catch {
      return null;
    }
  };
  return {
    child,
    listening,
    startMs,
    peakRssMb: () => status("VmHWM"),
    rssMb: () => status("VmRSS"),
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await reader.cancel();
      await child.stderr.cancel();
      await child.status;
    },
  };
}
