import assert from "node:assert/strict";
import {
  countsByStatus,
  cronJobLine,
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
