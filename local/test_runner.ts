/**
 * `npm test`: every suite of the project, on a throwaway stack of its own (`.stack/test`,
 * ports 55321/55322/55329), never touching the `npm start` stack. Ends with one line
 * `N passed, N failed` summing every suite and exits non-zero on any failure.
 *
 * Suites, in order:
 *   format      deno fmt --check
 *   lint        deno lint
 *   types       deno check (functions, local tooling, tests)
 *   stack       bring up the throwaway test stack (counts as one check)
 *   pgtap       pg_prove over supabase/tests/database (what `supabase test db` runs)
 *   db-lint     supabase db lint --fail-on error on the project's schema
 *   deno        deno test: unit tests beside the modules + integration tests in tests/
 *   bench       npm run bench -- --quick (the benchmarks cannot rot)
 *
 * Options: --keep (leave the test stack running), --only a,b (run only these suites),
 * --filter TEXT (passed to deno test).
 */
import { reset, step, up } from "./lib/stack.ts";
import { REPO_ROOT, stackConfig } from "./lib/stack_config.ts";

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  seconds: number;
  note?: string;
}

const DENO = Deno.execPath();

/** Runs a command with its output streamed to the terminal and also captured. */
async function stream(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: REPO_ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let output = "";
  const pump = async (s: ReadableStream<Uint8Array>, to: typeof Deno.stdout) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      output += dec.decode(chunk, { stream: true });
      await to.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  return { code, output };
}

function strip(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

async function simpleSuite(name: string, cmd: string, args: string[]): Promise<SuiteResult> {
  const t0 = performance.now();
  step(`suite ${name}: ${[cmd.split("/").pop(), ...args].join(" ")}`);
  const { code } = await stream(cmd, args);
  return {
    name,
    passed: code === 0 ? 1 : 0,
    failed: code === 0 ? 0 : 1,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Counts TAP lines of pg_prove --verbose output. */
export function countTap(output: string): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const line of strip(output).split("\n")) {
    if (/^\s*not ok \d+/.test(line)) failed++;
    else if (/^\s*ok \d+/.test(line)) passed++;
  }
  return { passed, failed };
}

/** Reads deno test's summary line (`ok | 12 passed (3 steps) | 0 failed`). */
export function countDenoTest(output: string): { passed: number; failed: number } | null {
  const lines = strip(output).split("\n").filter((l) => /\|\s*\d+ passed.*\|\s*\d+ failed/.test(l));
  const last = lines.at(-1);
  if (!last) return null;
  const passed = Number(last.match(/(\d+) passed/)![1]);
  const failed = Number(last.match(/(\d+) failed/)![1]);
  return { passed, failed };
}

/** Runs every suite; returns the process exit code. */
export async function runAllTests(args: string[]): Promise<number> {
  const keep = args.includes("--keep");
  const onlyIdx = args.indexOf("--only");
  const only = onlyIdx >= 0 ? new Set(args[onlyIdx + 1].split(",")) : null;
  const filterIdx = args.indexOf("--filter");
  const filter = filterIdx >= 0 ? args[filterIdx + 1] : null;
  const want = (s: string) => !only || only.has(s);
  const results: SuiteResult[] = [];
  const cfg = stackConfig("test");
  const started = performance.now();

  if (want("format")) results.push(await simpleSuite("format", DENO, ["fmt", "--check"]));
  if (want("lint")) results.push(await simpleSuite("lint", DENO, ["lint"]));
  if (want("types")) {
    results.push(
      await simpleSuite("types", DENO, ["check", "supabase/functions", "local", "tests"]),
    );
  }

  const needStack = ["pgtap", "db-lint", "deno", "bench"].some(want);
  let stackUp = false;
  if (needStack) {
    const t0 = performance.now();
    step(
      `suite stack: fresh throwaway stack in .stack/test (ports ${cfg.functionsPort}/${cfg.pgPort}/${cfg.tmdbPort})`,
    );
    try {
      await reset(cfg);
      await up(cfg, { tmdbArgs: ["--size", "3000"] });
      stackUp = true;
      results.push({
        name: "stack",
        passed: 1,
        failed: 0,
        seconds: (performance.now() - t0) / 1000,
      });
    } catch (e) {
      console.error(`[test] the test stack did not come up: ${(e as Error).message}`);
      results.push({
        name: "stack",
        passed: 0,
        failed: 1,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  }

  try {
    if (stackUp && want("pgtap")) {
      const t0 = performance.now();
      const files = [...Deno.readDirSync(`${REPO_ROOT}/supabase/tests/database`)]
        .map((e) => e.name).filter((n) => n.endsWith(".sql")).sort()
        .map((n) => `supabase/tests/database/${n}`);
      step(`suite pgtap: pg_prove over ${files.length} files in supabase/tests/database`);
      const { code, output } = await stream("pg_prove", [
        "--verbose",
        "-h",
        "127.0.0.1",
        "-p",
        String(cfg.pgPort),
        "-U",
        "postgres",
        "-d",
        "postgres",
        ...files,
      ], { PGPASSWORD: "postgres", PGOPTIONS: "--client-min-messages=warning" });
      const c = countTap(output);
      // A file that dies before its plan completes is a failure even if no "not ok" line.
      if (code !== 0 && c.failed === 0) c.failed = 1;
      results.push({ name: "pgtap", ...c, seconds: (performance.now() - t0) / 1000 });
    }
    if (stackUp && want("db-lint")) {
      results.push(
        await simpleSuite("db-lint", `${REPO_ROOT}/node_modules/.bin/supabase`, [
          "db",
          "lint",
          "--db-url",
          `postgresql://postgres:postgres@127.0.0.1:${cfg.pgPort}/postgres?sslmode=disable`,
          "--schema",
          "public",
          "--fail-on",
          "error",
        ]),
      );
    }
    if (want("deno")) {
      const t0 = performance.now();
      step("suite deno: deno test (unit tests + integration tests against the test stack)");
      const testArgs = ["test", "--allow-all", "--quiet"];
      if (filter) testArgs.push("--filter", filter);
      const env: Record<string, string> = stackUp
        ? {
          STACK_INFO: cfg.infoFile,
          API_LOG_TEST_DATABASE_URL:
            `postgresql://postgres:postgres@127.0.0.1:${cfg.pgPort}/postgres`,
        }
        : {};
      const { code, output } = await stream(DENO, testArgs, env);
      const c = countDenoTest(output) ?? { passed: 0, failed: 1 };
      if (code !== 0 && c.failed === 0) c.failed = 1;
      results.push({ name: "deno", ...c, seconds: (performance.now() - t0) / 1000 });
    }
    if (want("bench")) {
      const t0 = performance.now();
      step("suite bench: npm run bench -- --quick");
      try {
        const { runBench } = await import("./bench/bench.ts");
        const code = await runBench(["--quick"]);
        results.push({
          name: "bench",
          passed: code === 0 ? 1 : 0,
          failed: code === 0 ? 0 : 1,
          seconds: (performance.now() - t0) / 1000,
        });
      } catch (e) {
        console.error(`[test] bench --quick failed: ${(e as Error).message}`);
        results.push({
          name: "bench",
          passed: 0,
          failed: 1,
          seconds: (performance.now() - t0) / 1000,
        });
      }
    }
  } finally {
    if (needStack && !keep) {
      step("tearing down the test stack");
      await reset(cfg).catch((e) => console.error(`[test] teardown: ${(e as Error).message}`));
    }
  }

  console.log("\nsuite        passed  failed  seconds");
  for (const r of results) {
    console.log(
      `${r.name.padEnd(12)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${
        r.seconds.toFixed(1).padStart(7)
      }`,
    );
  }
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  console.log(`(total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
