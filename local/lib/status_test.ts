import assert from "node:assert/strict";
import {
  type ChainState,
  countsByStatus,
  cronJobLine,
  formatChains,
  formatDrift,
  migrationsState,
  serviceState,
  statusLine,
} from "./status.ts";

Deno.test("statusLine() aligns every value in one column", () => {
  assert.equal(statusLine("postgres", "stopped"), "postgres               stopped");
  assert.equal(statusLine("migrations applied", "3").indexOf("3"), 23);
});

Deno.test("serviceState() shows the pid of a running service and whether its port is open", () => {
  assert.equal(
    serviceState(123, { port: 54321, open: true }),
    "running (pid 123, port 54321 open)",
  );
  assert.equal(serviceState(123), "running (pid 123)");
  assert.equal(serviceState(null, { port: 54329, open: false }), "stopped, port 54329 closed");
  // A port held while the service is stopped: something else has it.
  assert.equal(serviceState(null, { port: 54329, open: true }), "stopped, port 54329 open");
});

Deno.test("migrationsState() counts the applied migrations and names the latest", () => {
  assert.equal(migrationsState([]), "0");
  assert.equal(
    migrationsState([{ version: "001", name: "a" }, { version: "027", name: "tmdb_tokens" }]),
    "2 (latest 027_tmdb_tokens)",
  );
});

Deno.test("cronJobLine() shows schedule, PAUSED for an inactive job, and the last run in UTC", () => {
  assert.equal(
    cronJobLine({
      jobname: "refresh-worker",
      schedule: "* * * * *",
      active: true,
      last_run: new Date("2026-12-02T10:00:00Z"),
      last_status: "succeeded",
    }),
    "  refresh-worker               * * * * *        active  last run: " +
      "2026-12-02T10:00:00.000Z (succeeded)",
  );
  assert.match(
    cronJobLine({
      jobname: null,
      schedule: "0 9 * * *",
      active: false,
      last_run: null,
      last_status: null,
    }),
    /^ {2}null {25}0 9 \* \* \* {8}PAUSED {2}last run: never$/,
  );
});

Deno.test("countsByStatus() lists each status with its count, or says empty", () => {
  assert.equal(countsByStatus([]), "empty");
  assert.equal(
    countsByStatus([{ status: "done", n: 10 }, { status: "pending", n: 3 }]),
    "done=10 pending=3",
  );
});

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
