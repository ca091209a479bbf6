/**
 * Local HTTP stand-in for the TMDB v3 API (https://api.themoviedb.org/3), serving the
 * deterministic synthetic catalog (`catalog.ts`) under `/3/...` (and without the prefix),
 * varied like real TMDB's payloads (`variation.ts`, on unless turned off), with TMDB's error
 * bodies, a token-bucket rate limit, a simulated clock, deterministic fault injection and a
 * control API under `/__control/...` (the pipeline is `standin.ts`).
 *
 * In-process: `const tmdb = await startTmdbStandin({ port: 0, token: "t" })`, then point the
 * client at `tmdb.url` and `await tmdb.close()` at the end.
 * As a process: `deno run -A local/tmdb_standin/server.ts --port 54329 --token …` (`cli.ts`);
 * it prints `{"event":"listening","url":…}` and then one JSON line per request.
 *
 * @module
 */

import { runCli } from "./cli.ts";

export { MAX_APPEND_PARTS, MAX_CHANGES_WINDOW_DAYS } from "./api.ts";
export { type FaultConfig, faultConfigSchema } from "./faults.ts";
export { TMDB_ERRORS } from "./http.ts";
export type { InjectedFaults, RequestLogEntry, StandinStats } from "./stats.ts";
export { startTmdbStandin, type TmdbStandin, type TmdbStandinOptions } from "./standin.ts";

if (import.meta.main) await runCli(Deno.args);
