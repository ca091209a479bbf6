/**
 * The stand-in's command line (`deno run -A local/tmdb_standin/server.ts --port … --token …`):
 * flags and environment into `startTmdbStandin` options, a `listening` line, one JSON line per
 * request (unless `--quiet`), and a clean exit on SIGTERM / SIGINT.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startTmdbStandin, type TmdbStandin } from "./standin.ts";
import { isoDay } from "./time.ts";

function numberFlag(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`--${name} must be a number in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Parses the flags, starts the stand-in and prints the `listening` line. */
export async function main(args: string[]): Promise<TmdbStandin> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string" },
      hostname: { type: "string" },
      size: { type: "string" },
      seed: { type: "string" },
      token: { type: "string" },
      "api-key": { type: "string" },
      "rate-limit": { type: "string" },
      "latency-ms": { type: "string" },
      now: { type: "string" },
      anchor: { type: "string" },
      "additions-rate": { type: "string" },
      "deletions-rate": { type: "string" },
      "export-publish-hour": { type: "string" },
      variation: { type: "string" },
      quiet: { type: "boolean" },
    },
  });
  const envOr = (flag: string | undefined, name: string): string | undefined => {
    if (flag !== undefined) return flag;
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined;
    }
  };
  const rateRaw = values["rate-limit"];
  const rate = rateRaw === undefined || ["", "0", "none", "off"].includes(rateRaw)
    ? null
    : numberFlag("rate-limit", rateRaw, 0.001, 1_000_000);
  let now: (() => Date) | undefined;
  if (values.now !== undefined) {
    const start = Date.parse(values.now);
    if (!Number.isFinite(start)) throw new Error(`--now is not a valid date: ${values.now}`);
    const delta = start - Date.now();
    now = () => new Date(Date.now() + delta);
  }
  const quiet = values.quiet === true;
  const variation = values.variation ?? "on";
  if (variation !== "on" && variation !== "off") {
    throw new Error(`--variation must be on or off, got ${JSON.stringify(variation)}`);
  }
  const standin = await startTmdbStandin({
    port: numberFlag("port", values.port, 0, 65535) ?? 54329,
    hostname: values.hostname,
    size: numberFlag("size", values.size, 1, 5_000_000),
    seed: numberFlag("seed", values.seed, -(2 ** 31), 2 ** 32 - 1),
    token: envOr(values.token, "TMDB_STANDIN_TOKEN"),
    apiKey: envOr(values["api-key"], "TMDB_STANDIN_API_KEY"),
    rateLimitPerSecond: rate,
    latencyMs: numberFlag("latency-ms", values["latency-ms"], 0, 600_000),
    anchor: values.anchor,
    additionsRate: numberFlag("additions-rate", values["additions-rate"], 0, 0.1),
    deletionsRate: numberFlag("deletions-rate", values["deletions-rate"], 0, 0.1),
    exportPublishHour: numberFlag("export-publish-hour", values["export-publish-hour"], 0, 23.99),
    now,
    variation: variation === "on",
    onRequest: quiet ? undefined : (entry) => console.log(JSON.stringify(entry)),
  });
  console.log(JSON.stringify({
    event: "listening",
    url: standin.url,
    port: standin.port,
    size: standin.catalog.size,
    seed: standin.catalog.seed,
    anchor: isoDay(standin.catalog.anchorDay),
    additionsRate: standin.catalog.lifecycle.additionsRate,
    deletionsRate: standin.catalog.lifecycle.deletionsRate,
    now: standin.now().toISOString(),
    rateLimitPerSecond: rate,
    variation,
  }));
  return standin;
}

/** Runs the CLI: starts, then stops on SIGTERM / SIGINT (exit 0); a bad flag exits 2. */
export async function runCli(args: string[]): Promise<void> {
  try {
    const standin = await main(args);
    let stopping = false;
    const stop = async (signal: Deno.Signal) => {
      if (stopping) return;
      stopping = true;
      console.log(JSON.stringify({ event: "stopping", signal }));
      await standin.close();
      console.log(JSON.stringify({ event: "stopped" }));
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
    Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  } catch (error) {
    console.error(JSON.stringify({ event: "error", message: (error as Error).message }));
    Deno.exit(2);
  }
}
