/**
 * `npm run bench` (→ `local/stack.ts bench` → {@link runBench}): the benchmarks, side by
 * side in one run, on a throwaway stack of their own (stack `bench`, `.stack/bench`, ports
 * 56321/56322/56329). See docs/benchmarks.md for what each figure means.
 *
 *   npm run bench                  full sizes (1,000,000 works, 20,000 queue items, …)
 *   npm run bench -- --quick       small sizes, under a minute (part of `npm test`)
 *   npm run bench -- --keep        leave the bench stack running afterwards
 *   npm run bench -- --only 1,2    run only these scenarios (1 stale, 2 queue,
 *                                  3 refresh (includes 5), 4 ingest, 6 edge drain and
 *                                  pipeline ceiling, 7 seed at the limit, 8 export
 *                                  import, 9 storage)
 *
 * The stack is reset first (stopped, its data deleted: `reset` of local/lib/stack.ts) and
 * brought up with the TMDB stand-in limited to 40 requests/s and 30 ms per answer; its cron
 * jobs are paused so nothing but the benchmark touches the queue. Progress goes to stderr,
 * one line per phase; the table (a Markdown table) and the targets go to stdout; the figures
 * and the environment go to `bench-results/<timestamp>.json`. Targets are reported as met /
 * missed and never fail the run: the exit code is 0 unless a scenario broke.
 *
 * @module
 */
import { reset, up } from "../lib/stack.ts";
import { stackConfig } from "../lib/stack_config.ts";
import { type BenchContext, connect, Progress, SIZES } from "./context.ts";
import { runEdge, runSeed } from "./edge.ts";
import { collectEnvironment } from "./env.ts";
import { runExportImport } from "./export_import.ts";
import { runIngestCost } from "./ingest_cost.ts";
import { runQueue } from "./queue.ts";
import { runRefresh, STANDIN_ARGS } from "./refresh.ts";
import { renderResultsTable, renderTargets } from "./report.ts";
import { type BenchResults, buildRows, evaluateTargets } from "./results.ts";
import { runStale } from "./stale.ts";
import { runStorage } from "./storage.ts";

/** Scenario numbers `--only` accepts. */
export const SCENARIOS = ["1", "2", "3", "4", "6", "7", "8", "9"] as const;

/** Parsed command line. */
export interface BenchArgs {
  /** Small sizes. */
  quick: boolean;
  /** Leave the stack running. */
  keep: boolean;
  /** Scenarios to run. */
  only: Set<string>;
}

/** Parses the arguments; throws with a usage message on anything unknown. */
export function parseBenchArgs(args: readonly string[]): BenchArgs {
  const out: BenchArgs = { quick: false, keep: false, only: new Set(SCENARIOS) };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--quick") out.quick = true;
    else if (a === "--keep") out.keep = true;
    else if (a === "--only") {
      const v = args[++i];
      const picked = (v ?? "").split(",").map((x) => x.trim()).filter(Boolean);
      const bad = picked.filter((x) => !(SCENARIOS as readonly string[]).includes(x));
      if (picked.length === 0 || bad.length) {
        throw new Error(
          `--only takes scenario numbers ${SCENARIOS.join(",")} separated by commas: ` +
            `current value is ${JSON.stringify(v ?? "")}`,
        );
      }
      out.only = new Set(picked);
    } else {
      throw new Error(
        `unknown bench argument ${JSON.stringify(a)}. Usage: npm run bench -- ` +
          "[--quick] [--keep] [--only 1,2,3,4,6,7,8,9]",
      );
    }
  }
  return out;
}

/** `2026-11-30T09:40:00.123Z` → `2026-11-30T09-40-00Z` (a file name on every OS). */
export function timestampName(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
}

/** Runs the benchmarks; returns the exit code (0 unless something broke). */
export async function runBench(args: string[]): Promise<number> {
  let parsed: BenchArgs;
  try {
    parsed = parseBenchArgs(args);
  } catch (e) {
    console.error(`[bench] ${(e as Error).message}`);
    return 2;
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const sizes = SIZES[parsed.quick ? "quick" : "full"];
  const cfg = stackConfig("bench");
  const progress = new Progress();
  progress.note(
    `${parsed.quick ? "quick" : "full"} run on a throwaway stack (.stack/bench, ports ` +
      `${cfg.functionsPort}/${cfg.pgPort}/${cfg.tmdbPort})`,
  );

  let ctx: BenchContext | null = null;
  try {
    progress.note("resetting and bringing up the bench stack…");
    const tUp = performance.now();
    await reset(cfg).catch(() => {});
    const info = await up(cfg, {
      tmdbArgs: [...STANDIN_ARGS, "--size", String(sizes.standinSize)],
    });
    progress.note(`bench stack up in ${((performance.now() - tUp) / 1000).toFixed(1)} s`);

    const sql = connect(info.dbUrl, 4);
    const admin = connect(info.adminDbUrl, 1);
    ctx = { cfg, info, quick: parsed.quick, sizes, sql, admin, progress };
    // Nothing but the benchmark may touch the queue: pause the stack's cron jobs (the
    // refresh_worker job would otherwise claim items every 10 minutes).
    const paused = await admin`update cron.job set active = false where active returning jobid`;
    const environment = await collectEnvironment(sql, {
      root: cfg.root,
      quick: parsed.quick,
      startedAt,
    });

    const results: BenchResults = {
      environment,
      sizes,
      errors: [],
      cronJobsPaused: paused.length,
      durationSeconds: 0,
    };
    const attempt = async (scenario: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        const message = (e as Error)?.message ?? String(e);
        progress.note(`scenario ${scenario} broke: ${message}`);
        results.errors.push({ scenario, message });
      }
    };
    const c = ctx;
    if (parsed.only.has("1")) {
      await attempt("1 stale", async () => void (results.stale = await runStale(c)));
    }
    if (parsed.only.has("2")) {
      await attempt("2 queue", async () => void (results.queue = await runQueue(c)));
    }
    if (parsed.only.has("3")) {
      await attempt("3 refresh", async () => void (results.refresh = await runRefresh(c)));
    }
    if (parsed.only.has("4")) {
      await attempt("4 ingest", async () => void (results.ingestCost = await runIngestCost(c)));
    }
    if (parsed.only.has("6")) {
      await attempt("6 edge drain", async () => void (results.edge = await runEdge(c)));
    }
    if (parsed.only.has("7")) {
      await attempt("7 seed", async () => void (results.seed = await runSeed(c)));
    }
    if (parsed.only.has("8")) {
      await attempt("8 export import", async () => {
        results.exportImport = await runExportImport(c);
      });
    }
    if (parsed.only.has("9")) {
      await attempt("9 storage", async () => void (results.storage = await runStorage(c)));
    }
    results.durationSeconds = (performance.now() - t0) / 1000;

    const targets = evaluateTargets(results);
    const rows = buildRows(results, targets);
    const table = renderResultsTable(rows);
    const env = results.environment;
    const header = `tmdb-sync benchmarks, ${env.mode} run, ${env.startedAt} — ` +
      `${env.cpuModel}, ${env.cores} cores, ${Math.round(env.memoryMiB / 1024)} GiB, ` +
      `${env.postgres.split(" on ")[0]}, Deno ${env.deno}, Node ${env.node}, commit ` +
      `${env.gitCommit.slice(0, 12)}${env.gitDirty ? " (+ local changes)" : ""}, ` +
      `load ${env.loadAverage.join(" ")}, ${results.durationSeconds.toFixed(0)} s`;
    console.log(`\n${header}\n\n${table}\n\nTargets:\n${renderTargets(targets)}`);

    const dir = `${cfg.root}/bench-results`;
    await Deno.mkdir(dir, { recursive: true });
    const file = `${dir}/${timestampName(startedAt)}${parsed.quick ? "-quick" : ""}.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ ...results, targets, table: rows }, null, 2) + "\n",
    );
    progress.note(`figures written to ${file.slice(cfg.root.length + 1)}`);
    return results.errors.length === 0 ? 0 : 1;
  } catch (e) {
    progress.note(`error: ${(e as Error)?.message ?? e}`);
    return 1;
  } finally {
    if (ctx) {
      await ctx.sql.end({ timeout: 5 }).catch(() => {});
      await ctx.admin.end({ timeout: 5 }).catch(() => {});
    }
    if (!parsed.keep) {
      progress.note("tearing down the bench stack");
      await reset(cfg).catch((e) => progress.note(`teardown: ${(e as Error).message}`));
    } else {
      progress.note(`bench stack left running (--keep): ${cfg.infoFile}`);
    }
  }
}
