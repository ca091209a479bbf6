// Tests of the functions host's command line, run as the stack runs it: `deno run` of
// local/functions_host.ts with a controlled environment, reading its stdout. They start real
// `deno` subprocesses for the fixture functions in tests/fixtures/functions/.

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(REPO, "tests/fixtures/functions");
const HOST_SCRIPT = join(REPO, "local/functions_host.ts");
const BASE_ENV: Record<string, string> = {
  SUPABASE_URL: "http://127.0.0.1:55321",
  SUPABASE_DB_URL: "postgresql://postgres@127.0.0.1:55322/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "test-service-role-key",
  SUPABASE_ANON_KEY: "test-anon-key",
};
const ENV_FILE_TEXT = "# user secrets\nFIXTURE_SECRET=from-env-file\n";

interface EchoBody {
  env: Record<string, unknown>;
  env_names: string[];
}

async function getJson(url: string): Promise<[Response, unknown]> {
  const response = await fetch(url);
  return [response, await response.json()];
}

async function isListening(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

async function waitUntilClosed(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await isListening(port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** The host run through its CLI, with a controlled environment; stdout collected as lines. */
interface HostCli {
  child: Deno.ChildProcess;
  lines: string[];
  waitForEvent(event: string, ms?: number): Promise<Record<string, unknown>>;
  /** Resolves when the process exited and its output was read. */
  finished: Promise<Deno.CommandStatus>;
  cleanup(): Promise<void>;
}

async function startHostCli(hostEnv: Record<string, string>): Promise<HostCli> {
  const dir = await Deno.makeTempDir();
  const envJson = join(dir, "env.json");
  await Deno.writeTextFile(envJson, JSON.stringify(BASE_ENV));
  const envFile = join(dir, "functions.env");
  await Deno.writeTextFile(envFile, ENV_FILE_TEXT);
  const basics: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) basics[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--config",
      join(REPO, "deno.json"),
      HOST_SCRIPT,
      "--port",
      "0",
      "--functions-dir",
      FIXTURES,
      "--env-json",
      envJson,
      "--env-file",
      envFile,
    ],
    clearEnv: true,
    env: { ...basics, ...hostEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const stdout = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
    }
    if (buffered) lines.push(buffered);
  })();
  const stderr = new Response(child.stderr).text();
  const finished = Promise.all([child.status, stdout, stderr]).then(([status]) => status);
  const waitForEvent = async (event: string, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      for (const line of lines) {
        const parsed = JSON.parse(line);
        if (parsed.event === event) return parsed;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(
      `no ${event} line within ${ms} ms; stdout:\n${lines.join("\n")}\nstderr:\n${await Promise
        .race([stderr, Promise.resolve("(still running)")])}`,
    );
  };
  return {
    child,
    lines,
    waitForEvent,
    finished,
    async cleanup() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await finished;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a variable only in the host's own environment never reaches a function", async () => {
  const cli = await startHostCli({ HOST_ONLY_MARKER: "visible-to-the-host-only" });
  try {
    const listening = await cli.waitForEvent("listening");
    const [response, json] = await getJson(`${listening.url}/functions/v1/echo`);
    assert.equal(response.status, 200);
    const echo = json as EchoBody;
    assert.ok(echo.env_names.includes("SUPABASE_URL"));
    assert.equal(echo.env.FIXTURE_SECRET, "from-env-file");
    assert.ok(!echo.env_names.includes("HOST_ONLY_MARKER"), echo.env_names.join(","));
  } finally {
    await cli.cleanup();
  }
});

Deno.test("the CLI prints only JSON lines and SIGTERM stops the host and its functions", async () => {
  const cli = await startHostCli({});
  try {
    const listening = await cli.waitForEvent("listening");
    await (await fetch(`${listening.url}/functions/v1/echo`)).body?.cancel();
    const started = await cli.waitForEvent("function_started");
    cli.child.kill("SIGTERM");
    const status = await cli.finished;
    assert.equal(status.code, 0);
    assert.equal(await isListening(started.port as number), false);
    const events = cli.lines.map((line) => JSON.parse(line).event);
    assert.equal(events.filter((event) => event === "request").length, 1);
    assert.ok(events.includes("shutdown"));
  } finally {
    await cli.cleanup();
  }
});

Deno.test("killing the host with SIGKILL leaves no function process alive", async () => {
  const cli = await startHostCli({});
  try {
    const listening = await cli.waitForEvent("listening");
    await (await fetch(`${listening.url}/functions/v1/echo`)).body?.cancel();
    const started = await cli.waitForEvent("function_started");
    assert.ok(await isListening(started.port as number));
    cli.child.kill("SIGKILL");
    await cli.finished;
    assert.ok(
      await waitUntilClosed(started.port as number, 5_000),
      `function on port ${started.port} still listening 5 s after the host was killed`,
    );
  } finally {
    await cli.cleanup();
  }
});

Deno.test("the CLI takes lowered limits as flags and refuses one above hosted's, naming the flag, the range and the value", async () => {
  const run = async (...flags: string[]) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", HOST_SCRIPT, "--port", "0", "--functions-dir", FIXTURES, ...flags],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    while (!stdout.includes('"listening"')) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    try {
      child.kill("SIGTERM");
    } catch {
      // It refused to start and exited already.
    }
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const stderr = await new Response(child.stderr).text();
    return { status: await child.status, stdout, stderr };
  };
  const refused = await run("--cpu-limit-ms", "2001");
  assert.equal(refused.status.code, 1);
  assert.match(
    refused.stderr,
    /--cpu-limit-ms must be an integer from 1 to 2000 \(hosted allows 2,000 ms of CPU; it may only be lowered\): current value is \\"2001\\"/,
  );
  const lowered = await run("--cpu-limit-ms", "300", "--memory-limit-mb", "128");
  const listening = lowered.stdout.split("\n").map((line) => line.trim()).filter(Boolean)
    .map((line) => JSON.parse(line)).find((e) => e.event === "listening");
  assert.equal(listening?.cpu_limit_ms, 300);
  assert.equal(listening?.memory_limit_mb, 128);
  assert.equal(listening?.idle_timeout_ms, 150_000);
  assert.equal(listening?.wall_clock_ms, 150_000);
});
