import assert from "node:assert/strict";
import type {
  ExportImport,
  ExportImportStore,
  ImportDecision,
  StagedSegment,
} from "../_shared/store/export_imports.ts";
import type { ContinueOptions } from "../_shared/store/refresh_queue.ts";
import { FakeClock } from "../_shared/testing/fake_clock.ts";
import {
  type Json,
  memoryLogger,
  postTo,
  SERVICE_KEY,
  testCpuMeter,
} from "../_shared/testing/handler_testing.ts";
import { createHandler, type HandlerDeps } from "./handler.ts";

const BASE = "https://files.example/p/exports";
const NOW = Date.parse("2026-03-02T08:30:00Z");
const RUN_ID = "5b0c2a8e-93a4-4e0f-8d7e-2f1c9a3b6d21";
const post = postTo("discover-movies");
const dec = new TextDecoder();

/** An import row with `fields` over zeros. */
function row(fields: Partial<ExportImport>): ExportImport {
  return {
    id: 1,
    export_day: "2026-03-02",
    requested_day: null,
    include_adult: false,
    status: "downloading",
    file_index: 0,
    bytes_staged: 0,
    lines_staged: 0,
    lines_parsed: 0,
    malformed_lines: 0,
    adult_skipped: 0,
    ids_seen: 0,
    new_ids: 0,
    queued_new: 0,
    absent_ids: 0,
    recheck_queued: 0,
    reappeared: 0,
    invocations: 1,
    error: null,
    ...fields,
  };
}

/**
 * A store that records what the run asks and answers from a script: `inProgress` is the
 * import a run resumes (null: none), `doneDays` the days already imported; staging moves the
 * position as asked; each step moves one phase on (parsing → queuing → finishing → done).
 */
function scriptedStore(script: { inProgress?: ExportImport | null; doneDays?: string[] } = {}) {
  const calls = {
    open: [] as [string | null, string | null][],
    staged: [] as StagedSegment[],
    steps: 0,
    failed: [] as string[],
    continued: [] as ContinueOptions[],
  };
  let current = script.inProgress ?? null;
  const next = { parsing: "queuing", queuing: "finishing", finishing: "done" } as const;
  const store: ExportImportStore = {
    open(day, requested) {
      calls.open.push([day, requested]);
      let d: ImportDecision;
      if (current) d = { action: "resume", import: current };
      else if (day === null) d = { action: "none" };
      else if (script.doneDays?.includes(day)) {
        d = { action: "done", import: row({ export_day: day, status: "done" }) };
      } else {
        current = row({ export_day: day, requested_day: requested === day ? null : requested });
        d = { action: "start", import: current };
      }
      return Promise.resolve(d);
    },
    stage(segment) {
      calls.staged.push(segment);
      assert.ok(current);
      current = {
        ...current,
        bytes_staged: segment.fileDone ? 0 : segment.bytesTo,
        status: segment.fileDone ? "parsing" : "downloading",
      };
      return Promise.resolve(current);
    },
    step() {
      calls.steps++;
      assert.ok(current && current.status in next);
      current = { ...current, status: next[current.status as keyof typeof next] };
      return Promise.resolve(current);
    },
    fail(_id, error) {
      calls.failed.push(error);
      return Promise.resolve();
    },
    continueRun(options) {
      calls.continued.push(options);
      return Promise.resolve({ continued: true, reason: "queued", request_id: 7, run_id: "r2" });
    },
  };
  return { store, calls };
}

/** Gzips `text`. */
async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(stream).arrayBuffer();
}

const FILE = Array.from({ length: 400 }, (_, i) => `{"adult":false,"id":${i + 1}}\n`).join("");

/** Serves `files` (name → text) gzip'd; anything else 404. Records the URLs asked. */
function filesHost(files: Record<string, string>, options: { status?: number } = {}) {
  const urls: string[] = [];
  const fetchExport = async (url: string) => {
    urls.push(url);
    if (options.status) return new Response("down", { status: options.status });
    const name = url.slice(BASE.length + 1);
    if (!(name in files)) return new Response("no such file", { status: 404 });
    return new Response(await gzip(files[name]));
  };
  return { fetchExport, urls };
}

function deps(
  store: ExportImportStore,
  fetchExport: HandlerDeps["fetchExport"],
  cpuMs: () => number = () => 0,
): HandlerDeps {
  return {
    allowedKeys: [SERVICE_KEY],
    logger: memoryLogger("discover-movies"),
    clock: new FakeClock({ start: NOW }),
    newRunId: () => RUN_ID,
    cpuMeter: testCpuMeter(cpuMs),
    imports: store,
    fetchExport,
    exportsBaseUrl: BASE,
  };
}

Deno.test("discover-movies refuses a caller without a key and a malformed body", async () => {
  const { store, calls } = scriptedStore();
  const handler = createHandler(deps(store, filesHost({}).fetchExport));
  assert.equal((await handler(post({}, null))).status, 401);
  const bad = await handler(post({ day: "2026-02-30" }));
  assert.equal(bad.status, 400);
  assert.match((await bad.json() as Json).message, /day must be a real date YYYY-MM-DD/);
  assert.equal((await handler(post({ segment_kb: 1 }))).status, 400);
  assert.equal((await handler(post({ url: "http://elsewhere" }))).status, 400);
  assert.equal(calls.open.length, 0);
});

Deno.test("discover-movies imports today's file: every byte staged in line-aligned segments, then the steps until done", async () => {
  const { store, calls } = scriptedStore();
  const host = filesHost({ "movie_ids_03_02_2026.json.gz": FILE });
  const res = await createHandler(deps(store, host.fetchExport))(post({ segment_kb: 16 }));
  const body: Json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.outcome, "imported");
  assert.equal(body.fell_back, false);
  assert.equal(body.steps, 3);
  assert.equal(body.stopped_because, "done");
  assert.equal(body.continuation, null);
  assert.deepEqual(host.urls, [`${BASE}/movie_ids_03_02_2026.json.gz`]);
  const text = calls.staged.flatMap((s) => s.chunks.map((c) => dec.decode(c))).join("");
  assert.equal(text, FILE);
  assert.equal(calls.staged.at(-1)!.fileDone, true);
  assert.equal(body.bytes_staged, FILE.length);
});

Deno.test("discover-movies falls back to yesterday's file when today's is missing, and says so", async () => {
  const { store, calls } = scriptedStore();
  const host = filesHost({ "movie_ids_03_01_2026.json.gz": FILE });
  const res = await createHandler(deps(store, host.fetchExport))(post({}));
  const body: Json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.fell_back, true);
  assert.equal(body.import.export_day, "2026-03-01");
  assert.equal(body.import.requested_day, "2026-03-02");
  assert.deepEqual(calls.open.slice(1), [["2026-03-01", "2026-03-02"]]);
});

Deno.test("discover-movies answers 502 export_missing when neither today's nor yesterday's file exists", async () => {
  const { store } = scriptedStore();
  const res = await createHandler(deps(store, filesHost({}).fetchExport))(post({}));
  const body: Json = await res.json();
  assert.equal(res.status, 502);
  assert.equal(body.error, "export_missing");
  assert.match(body.message, /2026-03-02 or 2026-03-01/);
});

Deno.test("discover-movies answers 502 export_unavailable when the files host fails", async () => {
  const { store } = scriptedStore();
  const res = await createHandler(deps(store, filesHost({}, { status: 503 }).fetchExport))(
    post({}),
  );
  const body: Json = await res.json();
  assert.equal(res.status, 502);
  assert.equal(body.error, "export_unavailable");
  assert.match(body.message, /answered HTTP 503/);
});

Deno.test("discover-movies does not download a day already imported", async () => {
  const { store, calls } = scriptedStore({ doneDays: ["2026-03-02"] });
  const host = filesHost({ "movie_ids_03_02_2026.json.gz": FILE });
  const body: Json = await (await createHandler(deps(store, host.fetchExport))(post({}))).json();
  assert.equal(body.outcome, "already_imported");
  assert.equal(calls.staged.length, 0);
  assert.equal(calls.steps, 0);
});

Deno.test("discover-movies resumes an import in progress from the bytes already staged", async () => {
  const at = FILE.indexOf("\n", 5000) + 1;
  const { store, calls } = scriptedStore({
    inProgress: row({ export_day: "2026-02-28", bytes_staged: at, invocations: 2 }),
  });
  const host = filesHost({ "movie_ids_02_28_2026.json.gz": FILE });
  const body: Json = await (await createHandler(deps(store, host.fetchExport))(post({}))).json();
  assert.equal(body.resumed, true);
  assert.equal(body.outcome, "imported");
  assert.deepEqual(host.urls, [`${BASE}/movie_ids_02_28_2026.json.gz`]);
  assert.equal(calls.staged[0].bytesFrom, at);
  const text = calls.staged.flatMap((s) => s.chunks.map((c) => dec.decode(c))).join("");
  assert.equal(text, FILE.slice(at));
});

Deno.test("discover-movies marks an import failed when its file vanished while importing it", async () => {
  const { store, calls } = scriptedStore({
    inProgress: row({ export_day: "2026-02-28", bytes_staged: 100 }),
  });
  const res = await createHandler(deps(store, filesHost({}).fetchExport))(post({}));
  assert.equal(res.status, 502);
  assert.deepEqual(calls.failed, [
    "movie export of 2026-02-28 is missing (404) while importing it",
  ]);
});

Deno.test("discover-movies stops at its CPU budget after one unit of work and continues its chain with the same knobs", async () => {
  const { store, calls } = scriptedStore();
  const host = filesHost({ "movie_ids_03_02_2026.json.gz": FILE });
  const res = await createHandler(deps(store, host.fetchExport, () => 50))(
    post({ cpu_budget_ms: 20, segment_kb: 16, step_rows: 500, chain_id: RUN_ID, chain_link: 4 }),
  );
  const body: Json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.outcome, "in_progress");
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(calls.staged.length, 1, "one segment, then the budget");
  assert.deepEqual(calls.continued, [{
    runId: RUN_ID,
    chainId: RUN_ID,
    chainLink: 4,
    body: { budget_ms: 110_000, step_rows: 500, segment_kb: 16, cpu_budget_ms: 20 },
  }]);
  assert.equal(body.continuation.continued, true);
  assert.deepEqual(body.chain, { id: RUN_ID, link: 4 });
});

Deno.test("discover-movies makes one parse step per run even with its budget spent on arrival", async () => {
  const { store, calls } = scriptedStore({ inProgress: row({ status: "parsing" }) });
  const body: Json = await (await createHandler(
    deps(store, filesHost({}).fetchExport, () => 5_000),
  )(post({}))).json();
  assert.equal(calls.steps, 1);
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(calls.continued.length, 1);
});
