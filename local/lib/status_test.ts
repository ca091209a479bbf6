import assert from "node:assert/strict";
import { type ChainState, formatChains, formatDrift } from "./status.ts";

Deno.test("formatDrift() says none when nothing drifted", () => {
  assert.deepEqual(formatDrift([], 0), ["payload drift (last 24 h): none"]);
});

Deno.test("formatDrift() lists count, runs, kind, sample and path, the path last", () => {
  assert.deepEqual(
    formatDrift([
      {
        path: "release_dates.results[].release_dates[].note",
        kind: "missing",
        count: 1204,
        runs: 12,
        sample_tmdb_id: 550,
      },
      { path: "list:results[].id", kind: "wrong_type", count: 1, runs: 1, sample_tmdb_id: null },
    ], 2),
    [
      "payload drift (last 24 h): 2 path/kind pairs",
      "    count   runs  kind           sample  path",
      "     1204     12  missing           550  release_dates.results[].release_dates[].note",
      "        1      1  wrong_type          -  list:results[].id",
    ],
  );
});

Deno.test("formatDrift() says when it shows only the top rows", () => {
  const [title] = formatDrift(
    [{ path: "tagline", kind: "null", count: 3, runs: 2, sample_tmdb_id: 7 }],
    57,
  );
  assert.equal(title, "payload drift (last 24 h): 57 path/kind pairs, top 1 by count");
  assert.equal(
    formatDrift([{ path: "tagline", kind: "null", count: 3, runs: 2, sample_tmdb_id: 7 }], 1)[0],
    "payload drift (last 24 h): 1 path/kind pair",
  );
});

Deno.test("formatChains() shows runs in flight, the hour's continuations and the settings", () => {
  const state: ChainState = {
    in_flight: 1,
    continuations_last_hour: 3,
    paused: false,
    max_chains: 1,
    max_continuations_per_hour: 240,
  };
  assert.equal(
    formatChains(state),
    "1 run in flight (max_chains 1), 3 continuations in the last hour (cap 240), not paused",
  );
  assert.equal(
    formatChains({ ...state, in_flight: 0, continuations_last_hour: 1, paused: true }),
    "0 runs in flight (max_chains 1), 1 continuation in the last hour (cap 240), " +
      "PAUSED (refresh_worker_settings.paused)",
  );
});
