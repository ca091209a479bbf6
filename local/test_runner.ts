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
 * Options: --keep (leave the test stack running), --only a,b (run only these suites; `stack`
 * comes with any suite that needs it), --filter TEXT (passed to deno test). Anything else, or
 * an unknown suite, stops it before it runs anything.
 */
import { reset, step, up } from "./lib/stack.ts";
import { REPO_ROOT, type StackConfig, stackConfig } from "./lib/stack_config.ts";

/** The outcome of one suite, a row of the summary. */
export interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  seconds: number;
}

/** The suites `--only` can name, in the order they run. */
export const SUITES = ["format", "lint", "types", "pgtap", "db-lint", "deno", "bench"] as const;
/** One of {@linkcode SUITES}. */
export type Suite = typeof SUITES[number];
/** The suites that need the throwaway stack. */
const STACK_SUITES: readonly Suite[] = ["pgtap", "db-lint", "deno", "bench"];

/** What `npm test -- …` asked for. */
export interface TestRunOptions {
  /** Leave the test stack running afterwards. */
  keep: boolean;
  /** The suites to run, in order. */
  suites: Suite[];
  /** Passed to `deno test --filter`. */
  filter: string | null;
}

/**
 * Parses `--keep`, `--only a,b` and `--filter TEXT`. Throws naming the flag for a missing
 * value, an unknown suite or an unknown argument.
 */
export function parseTestArgs(args: readonly string[]): TestRunOptions {
  const options: TestRunOptions = { keep: false, suites: [...SUITES], filter: null };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--keep") {
      options.keep = true;
      continue;
    }
    if (arg !== "--only" && arg !== "--filter") {
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}: expected --keep, --only a,b or --filter TEXT`,
      );
    }
    const value = args[++i];
    if (value === undefined || value.startsWith("--")) {
      throw new Error(`${arg} needs a value`);
    }
    if (arg === "--filter") {
      options.filter = value;
      continue;
    }
    const only = value.split(",").map((name) => name.trim()).filter(Boolean);
    const unknown = only.filter((name) => !(SUITES as readonly string[]).includes(name));
    if (unknown.length > 0 || only.length === 0) {
      throw new Error(
        `--only ${JSON.stringify(value)} names no suite${
          unknown.length ? ` (${unknown.join(", ")})` : ""
        }: ` +
          `the suites are ${SUITES.join(", ")}`,
      );
    }
    options.suites = SUITES.filter((suite) => only.includes(suite));
  }
  return options;
}

/** Whether any of `suites` needs the throwaway stack. */
export function needsStack(suites: readonly Suite[]): boolean {
  return suites.some((suite) => STACK_SUITES.includes(suite));
}

/** A suite that is one command: one check, passed when the command exits 0. */
export function commandResult(name: string, code: number, seconds: number): SuiteResult {
  return { name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, seconds };
}

/** `deno test`'s arguments. */
export function denoTestArgs(filter: string | null): string[] {
  return ["test", "--allow-all", "--quiet", ...(filter ? ["--filter", filter] : [])];
}

/** What the integration tests need to find the test stack (nothing without one). */
export function denoTestEnv(cfg: StackConfig, stackUp: boolean): Record<string, string> {
  return stackUp
    ? {
      STACK_INFO: cfg.infoFile,
      API_LOG_TEST_DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${cfg.pgPort}/postgres`,
    }
    : {};
}

/** The summary table and the closing `N passed, N failed` line. */
export function summaryLines(results: readonly SuiteResult[], totalSeconds: number): string[] {
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  return [
    "\nsuite        passed  failed  seconds",
    ...results.map((r) =>
      `${r.name.padEnd(12)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${
        r.seconds.toFixed(1).padStart(7)
      }`
    ),
    `(total ${totalSeconds.toFixed(0)} s)`,
    `${passed} passed, ${failed} failed`,
  ];
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
  return commandResult(name, code, (performance.now() - t0) / 1000);
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
  let options: TestRunOptions;
  try {
    options = parseTestArgs(args);
  } catch (error) {
    console.error(`[test] ${(error as Error).message}`);
    return 2;
  }
  const { keep, filter } = options;
  const want = (suite: Suite) => options.suites.includes(suite);
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

  const needStack = needsStack(options.suites);
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
      const { code, output } = await stream(DENO, denoTestArgs(filter), denoTestEnv(cfg, stackUp));
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
        results.push(commandResult("bench", code, (performance.now() - t0) / 1000));
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

  for (const line of summaryLines(results, (performance.now() - started) / 1000)) console.log(line);
  return results.every((r) => r.failed === 0) ? 0 : 1;
}
