/**
 * The peer side of scenario 2's depth run (local/bench/queue_depth.ts): graphile-worker
 * 0.17.3 draining the head of a deep jobs table, against the same Postgres as our side.
 *
 *   node local/bench/graphile_depth.mjs --url postgresql://… --depth 1000000 --items 20000 \
 *     --mode batched [--workers 4] [--batch 10]
 *
 * Loads `--depth` no-op jobs with one `graphile_worker.add_jobs` statement built in SQL (no
 * runner running yet), with the priorities our side's rows get (`public.new_movie_priority`
 * of the same popularity pattern; graphile-worker also runs lower priorities first), then
 * starts the mode's runners (modes of graphile_queue.mjs) and times from the first job's
 * start to the `--items`-th execution, and stops them. Every execution's job id is recorded
 * (a job run twice is a duplicate). The jobs are deleted afterwards.
 *
 * Prints one JSON object on stdout: `{graphileWorkerVersion, mode, depth, items, loadMs,
 * seconds, itemsPerSecond, executions, distinct, duplicates}`; progress on stderr.
 */
import { EventEmitter } from "node:events";
import process from "node:process";
import { createRequire } from "node:module";
import gw from "graphile-worker";
import { MODES, parseArgs, positiveInt, quietLogger, runnerOptions } from "./graphile_queue.mjs";

const require = createRequire(import.meta.url);
const { run, runMigrations, makeWorkerUtils } = gw;

/** The popularity pattern both sides queue: row g has popularity g mod 997. */
const LOAD_SQL = `
  select count(*)::int as n
    from graphile_worker.add_jobs(array(
      select row('noop', json_build_object('i', g), null, null, null, null,
                 public.new_movie_priority((g % 997)::double precision), null
             )::graphile_worker.job_spec
        from generate_series(1, $1::int) g))`;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const url = args.url;
  if (!url) throw new Error("--url is required (a postgres connection string)");
  const depth = positiveInt("depth", args.depth, 1_000_000);
  const items = positiveInt("items", args.items, 20_000);
  const workers = positiveInt("workers", args.workers, 4);
  const batch = positiveInt("batch", args.batch, 10);
  const mode = args.mode ?? "batched";
  if (!MODES.includes(mode)) {
    throw new Error(`unknown mode ${JSON.stringify(mode)}: expected one of ${MODES.join(", ")}`);
  }
  if (items > depth) {
    throw new Error(`--items (${items}) must not exceed --depth (${depth})`);
  }
  const version = require("graphile-worker/package.json").version;
  await runMigrations({ connectionString: url, logger: quietLogger });
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger });
  try {
    await utils.withPgClient((c) => c.query("delete from graphile_worker._private_jobs"));
    const tLoad = performance.now();
    const { rows } = await utils.withPgClient((c) => c.query(LOAD_SQL, [depth]));
    if (rows[0].n !== depth) {
      throw new Error(`add_jobs queued ${rows[0].n} jobs, expected ${depth}`);
    }
    await utils.withPgClient((c) => c.query("analyze graphile_worker._private_jobs"));
    const loadMs = Math.round(performance.now() - tLoad);
    process.stderr.write(`[graphile] ${depth} jobs loaded in ${loadMs} ms\n`);

    const seen = new Map();
    let executions = 0;
    let firstStart = null;
    let reachedAt = null;
    let resolveDone;
    const done = new Promise((resolve) => (resolveDone = resolve));
    const taskList = {
      noop: (_payload, helpers) => {
        const id = String(helpers.job.id);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        executions++;
        if (executions === items) {
          reachedAt = performance.now();
          resolveDone();
        }
      },
    };
    const runners = await Promise.all(
      runnerOptions(mode, workers, batch).map(async (opts) => {
        const events = new EventEmitter();
        events.on("job:start", () => {
          if (firstStart === null) firstStart = performance.now();
        });
        return await run({ ...opts, events, connectionString: url, taskList });
      }),
    );
    const timer = setTimeout(() => resolveDone(), Math.max(60_000, items * 10));
    await done;
    clearTimeout(timer);
    const end = reachedAt ?? performance.now();
    await Promise.all(runners.map((r) => r.stop()));
    const seconds = (end - (firstStart ?? end)) / 1000;
    const counted = Math.min(executions, items);
    const result = {
      graphileWorkerVersion: version,
      mode,
      depth,
      items,
      loadMs,
      seconds,
      itemsPerSecond: seconds > 0 ? counted / seconds : 0,
      executions,
      distinct: seen.size,
      duplicates: executions - seen.size,
    };
    process.stderr.write(
      `[graphile] ${mode} at depth ${depth}: ${counted} executions in ${seconds.toFixed(2)} s ` +
        `(${Math.round(result.itemsPerSecond)}/s), ${result.duplicates} duplicates\n`,
    );
    process.stdout.write(JSON.stringify(result) + "\n");
  } finally {
    await utils.withPgClient((c) => c.query("delete from graphile_worker._private_jobs"))
      .catch(() => {});
    await utils.release();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`[graphile] error: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
