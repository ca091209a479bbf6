import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { CLI_USAGE, DEFAULT_CLI_PORT, main, parseCliArgs, readEnvJson } from "./cli.ts";
import { EDGE_LIMIT_SPECS } from "./edge_limits.ts";
import { REPO_ROOT } from "./host.ts";

/** The host command of `args` (fails the test for `--help`). */
function options(args: string[]) {
  const command = parseCliArgs(args);
  if (command.help) throw new Error(`${JSON.stringify(args)} parsed as --help`);
  return command;
}

Deno.test("parseCliArgs() defaults: the dev port, the repo's functions and their .env, hosted limits", () => {
  const { options: parsed, envJson } = options([]);
  const functionsDir = join(REPO_ROOT, "supabase/functions");
  assert.deepEqual(parsed, {
    port: DEFAULT_CLI_PORT,
    hostname: undefined,
    functionsDir,
    envFile: join(functionsDir, ".env"),
    cpuLimitMs: undefined,
    memoryLimitMb: undefined,
    idleTimeoutMs: undefined,
    wallClockMs: undefined,
    bootTimeoutMs: undefined,
    configPath: undefined,
    denoPath: undefined,
  });
  assert.equal(envJson, undefined);
  assert.deepEqual(parseCliArgs(["--help"]), { help: true });
});

Deno.test("parseCliArgs() takes every flag; the env file defaults to the given functions dir's", () => {
  const { options: parsed, envJson } = options([
    "--port",
    "0",
    "--hostname",
    "0.0.0.0",
    "--functions-dir",
    "tests/fixtures/functions",
    "--env-json",
    "/tmp/env.json",
    "--boot-timeout-ms",
    "5000",
    "--cpu-limit-ms",
    "300",
    "--memory-limit-mb",
    "128",
    "--idle-timeout-ms",
    "1000",
    "--wall-clock-ms",
    "400000",
    "--config",
    "/x/deno.json",
    "--deno-path",
    "/x/deno",
  ]);
  const functionsDir = resolve("tests/fixtures/functions");
  assert.deepEqual(parsed, {
    port: 0,
    hostname: "0.0.0.0",
    functionsDir,
    envFile: join(functionsDir, ".env"),
    cpuLimitMs: 300,
    memoryLimitMb: 128,
    idleTimeoutMs: 1000,
    wallClockMs: 400000,
    bootTimeoutMs: 5000,
    configPath: "/x/deno.json",
    denoPath: "/x/deno",
  });
  assert.equal(envJson, "/tmp/env.json");
  assert.equal(options(["--env-file", "/s/.env"]).options.envFile, "/s/.env");
});

Deno.test("parseCliArgs() refuses a bad number, a limit above hosted's, unknown flags and positionals", () => {
  assert.throws(
    () => parseCliArgs(["--port", "80a"]),
    /^Error: --port must be a non-negative integer: got "80a"$/,
  );
  assert.throws(
    () => parseCliArgs(["--boot-timeout-ms", "1.5"]),
    /--boot-timeout-ms must be a non-negative integer: got "1.5"/,
  );
  assert.throws(
    () => parseCliArgs(["--memory-limit-mb", "512"]),
    /--memory-limit-mb must be an integer from 64 to 256 .*: current value is "512"/,
  );
  assert.throws(() => parseCliArgs(["--prot", "1"]), /--prot/);
  assert.throws(() => parseCliArgs(["serve"]), /serve/);
});

Deno.test("every flag --help lists is one parseCliArgs() takes, and every limit is listed with its range", () => {
  const flags = [...CLI_USAGE.matchAll(/^ {2}--([a-z-]+)/gm)].map((match) => match[1]);
  assert.ok(flags.length >= 13, flags.join(" "));
  for (const flag of flags) {
    const args = flag === "help" ? ["--help"] : [`--${flag}`, "100"];
    assert.doesNotThrow(() => parseCliArgs(args), `--${flag}`);
  }
  for (const spec of EDGE_LIMIT_SPECS) {
    assert.match(
      CLI_USAGE,
      new RegExp(`--${spec.flag} N\\s+${spec.min}\\.\\.${spec.max} \\(default ${spec.default}\\)`),
    );
  }
});

Deno.test("readEnvJson() reads an object of strings and names the file and the problem otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "env.json");
    await Deno.writeTextFile(path, '{"SUPABASE_URL":"http://x","KEY":"k"}');
    assert.deepEqual(await readEnvJson(path), { SUPABASE_URL: "http://x", KEY: "k" });

    await Deno.writeTextFile(path, '{"PORT":5432}');
    await assert.rejects(
      readEnvJson(path),
      new RegExp(`^Error: --env-json ${path} must be a JSON object of strings: PORT: `),
    );
    await Deno.writeTextFile(path, '["a"]');
    await assert.rejects(readEnvJson(path), /must be a JSON object of strings: \(root\): /);
    await Deno.writeTextFile(path, "{not json");
    await assert.rejects(readEnvJson(path), new RegExp(`--env-json ${path} is not valid JSON: `));
    await assert.rejects(
      readEnvJson(join(dir, "missing.json")),
      new RegExp(`Cannot read --env-json ${dir}/missing.json: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main() gives exit code 1 for a usage error, before starting anything", async () => {
  assert.equal(await main(["--port", "x"]), 1);
});
