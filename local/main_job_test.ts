import assert from "node:assert/strict";
import { describeRun, movieLine, type RunRow } from "./main_job.ts";

function run(overrides: Partial<RunRow>): RunRow {
  return {
    request_id: "1",
    function_name: "refresh-worker",
    state: "done",
    status_code: 200,
    timed_out: false,
    error_msg: null,
    response: null,
    response_text: null,
    ...overrides,
  };
}

Deno.test("describeRun() lists the summary's scalars and array lengths, without ids or nested objects", () => {
  assert.equal(
    describeRun(run({
      response: {
        run_id: "r",
        job_name: "j",
        trigger: "manual",
        worker_id: "w",
        ingested: 30,
        stopped: null,
        ok: true,
        errors: ["a", "b"],
        detail: { nested: 1 },
      },
    })),
    "ingested=30 stopped=null ok=true errors=2",
  );
});

Deno.test("describeRun() falls back to the error, then the raw text, then the state", () => {
  assert.equal(
    describeRun(run({ error_msg: "Timeout of 5000 ms reached", response_text: "x" })),
    "Timeout of 5000 ms reached",
  );
  assert.equal(describeRun(run({ response_text: "<html>502</html>" })), "<html>502</html>");
  assert.equal(describeRun(run({ state: "failed" })), "failed");
});

Deno.test("movieLine() shows the TMDB id aligned, the title and the release year when known", () => {
  assert.equal(
    movieLine({
      tmdb_id: 603,
      title: "The Matrix",
      release_date: new Date("1999-03-31T00:00:00Z"),
    }),
    "       603  The Matrix (1999)",
  );
  assert.equal(
    movieLine({ tmdb_id: 1, title: "Text date", release_date: "2026-12-02" }),
    "         1  Text date (2026)",
  );
  assert.equal(
    movieLine({ tmdb_id: 2, title: "Unknown", release_date: null }),
    "         2  Unknown",
  );
});
