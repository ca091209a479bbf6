/**
 * The peer side of the queue benchmark (local/bench/queue.ts): the same workload as the
 * project's refresh queue, run through graphile-worker 0.17.3 against the same Postgres.
 * Runs with Node 20 (`node local/bench/graphile_queue.mjs …`); graphile-worker is a dev
 * dependency used only here.
 *
 *   node local/bench/graphile_queue.mjs --url postgresql://… --jobs 20000 \
 *     [--workers 4] [--batch 10] [--modes default,batched,pooled]
 *
 * For each mode, in order: start the runner(s) on an empty jobs table and wait until they
 * listen, queue `--jobs` no-op jobs in bulk (one `addJobs` call: one
 * `graphile_worker.add_jobs` statement, one transaction, whose NOTIFY wakes the runners), and
 * time from the first job's start until the jobs table is empty (graphile-worker deletes a
 * job when it completes), then stop. Every execution's job id is recorded, so a job run
 * twice shows up as a duplicate. Modes (all with 4 concurrent executions):
 *
 *   default  one runner, `concurrency: 4`, graphile-worker's defaults: every worker fetches
 *            one job per query and completes it with one query.
 *   batched  4 runners of `concurrency: 1`, each with `localQueue.size: 10` (fetches and
 *            locks 10 jobs per query) and `completeJobBatchDelay: 0` (completes what
 *            finished together in one query): the closest match to 4 workers each claiming
 *            and finishing batches of 10.
 *   pooled   one runner, `concurrency: 4`, `localQueue.size: 10`,
 *            `completeJobBatchDelay: 0`: graphile-worker's recommended way to batch.
 *
 * Prints one JSON object on stdout: `{graphileWorkerVersion, migrateMs, modes: [{mode,
 * jobs, addMs, seconds, itemsPerSecond, executions, distinct, duplicates, leftover}]}`.
 * Progress goes to stderr. Exit code 0 unless something broke (duplicates are reported,
 * not fatal: the caller judges them).
 */
import { EventEmitter } from "node:events";
import process from "node:process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import gw from "graphile-worker";

const require = createRequire(import.meta.url);
const { run, runMigrations, makeWorkerUtils, Logger } = gw;

/** Parses `--name value` pairs. */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`missing value for ${a}`);
    out[a.slice(2)] = v;
    i++;
  }
  return out;
}

/** `value` as a positive integer (`dflt` when absent); throws naming `--name` otherwise. */
export function positiveInt(name, value, dflt) {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${name} must be a positive integer: current value is ${value}`);
  }
  return n;
}

/** The modes, in the order they run. */
export const MODES = ["default", "batched", "pooled"];

/** graphile-worker logs only warnings and errors (it is chatty at info). */
export const quietLogger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") {
    process.stderr.write(`[graphile] ${level}: ${message}\n`);
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runner options of one mode, as a list (one entry per runner). */
export function runnerOptions(mode, workers, batch) {
  const base = { noHandleSignals: true, pollInterval: 1000, logger: quietLogger };
  switch (mode) {
    case "default":
      return [{ ...base, concurrency: workers, maxPoolSize: workers + 2 }];
    case "batched":
      return Array.from({ length: workers }, () => ({
        ...base,
        concurrency: 1,
        maxPoolSize: 3,
        preset: { worker: { localQueue: { size: batch }, completeJobBatchDelay: 0 } },
      }));
    case "pooled":
      return [{
        ...base,
        concurrency: workers,
        maxPoolSize: workers + 2,
        preset: { worker: { localQueue: { size: batch }, completeJobBatchDelay: 0 } },
      }];
    default:
      throw new Error(`unknown mode ${JSON.stringify(mode)}: expected one of ${MODES.join(", ")}`);
  }
}

async function countJobs(utils) {
  return await utils.withPgClient(async (client) => {
    const { rows } = await client.query(
      "select count(*)::int as n from graphile_worker._private_jobs",
    );
    return rows[0].n;
  });
}

async function runMode(url, utils, mode, jobs, workers, batch) {
  // Start from an empty jobs table (a previous interrupted run may have left some).
  await utils.withPgClient((client) => client.query("delete from graphile_worker._private_jobs"));

  const seen = new Map();
  let executions = 0;
  let firstStart = null;
  let resolveAll;
  const allExecuted = new Promise((resolve) => (resolveAll = resolve));
  const taskList = {
    noop: (_payload, helpers) => {
      const id = String(helpers.job.id);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      executions++;
      if (executions >= jobs) resolveAll();
    },
  };

  // Start the runners first and let them connect and LISTEN on an empty table (our side's
  // connections are opened before its clock starts too), then add every job in one call.
  const runners = await Promise.all(
    runnerOptions(mode, workers, batch).map(async (opts) => {
      const events = new EventEmitter();
      const listening = new Promise((resolve) => events.once("pool:listen:success", resolve));
      events.on("job:start", () => {
        if (firstStart === null) firstStart = performance.now();
      });
      const runner = await run({ ...opts, events, connectionString: url, taskList });
      await Promise.race([listening, sleep(10_000)]);
      return runner;
    }),
  );
  await sleep(200);

  const tAdd = performance.now();
  const specs = Array.from({ length: jobs }, (_, i) => ({ identifier: "noop", payload: { i } }));
  await utils.addJobs(specs);
  const addMs = performance.now() - tAdd;

  const timeoutMs = Math.max(60_000, jobs * 10);
  const timer = setTimeout(() => resolveAll(), timeoutMs);
  await allExecuted;
  clearTimeout(timer);
  // The last completions may still be in flight (completeJob is not awaited by the worker):
  // the run ends when the jobs table is empty.
  let leftover = await countJobs(utils);
  const deadline = performance.now() + 30_000;
  while (leftover > 0 && performance.now() < deadline) {
    await sleep(2);
    leftover = await countJobs(utils);
  }
  const end = performance.now();
  await Promise.all(runners.map((r) => r.stop()));
  const seconds = (end - (firstStart ?? tAdd)) / 1000;
  const distinct = seen.size;
  return {
    mode,
    jobs,
    addMs: Math.round(addMs),
    seconds,
    itemsPerSecond: executions / seconds,
    executions,
    distinct,
    duplicates: executions - distinct,
    leftover,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const url = args.url;
  if (!url) throw new Error("--url is required (a postgres connection string)");
  const jobs = positiveInt("jobs", args.jobs, 20000);
  const workers = positiveInt("workers", args.workers, 4);
  const batch = positiveInt("batch", args.batch, 10);
  const modes = (args.modes ?? MODES.join(",")).split(",").filter(Boolean);
  for (const m of modes) {
    if (!MODES.includes(m)) {
      throw new Error(`unknown mode ${JSON.stringify(m)}: expected one of ${MODES.join(", ")}`);
    }
  }
  const version = require("graphile-worker/package.json").version;

  const tMig = performance.now();
  await runMigrations({ connectionString: url, logger: quietLogger });
  const migrateMs = Math.round(performance.now() - tMig);
  process.stderr.write(`[graphile] schema graphile_worker ready (${migrateMs} ms)\n`);

  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger });
  const results = [];
  try {
    for (const mode of modes) {
      const r = await runMode(url, utils, mode, jobs, workers, batch);
      process.stderr.write(
        `[graphile] ${mode}: ${r.executions} executions in ${r.seconds.toFixed(2)} s ` +
          `(${Math.round(r.itemsPerSecond)}/s), ${r.duplicates} duplicates\n`,
      );
      results.push(r);
    }
  } finally {
    await utils.release();
  }
  process.stdout.write(
    JSON.stringify({ graphileWorkerVersion: version, migrateMs, modes: results }) + "\n",
  );
}

// Run as a script, not when graphile_depth.mjs imports the modes from here.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`[graphile] error: ${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
