import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HOSTED_EDGE_LIMITS } from "./edge_limits.ts";
import { ENTRY_HOSTNAME_ENV, ENTRY_NAME_ENV, ENTRY_PORT_ENV } from "./function_entry.ts";
import { PoolClosedError } from "./function_pool.ts";
import type { LogEntry } from "./log.ts";
import {
  functionCommand,
  FunctionSupervisor,
  PASSTHROUGH_ENV_NAMES,
  passthroughEnv,
} from "./supervisor.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const FIXTURES = join(REPO, "tests/fixtures/functions");

Deno.test("passthroughEnv() keeps only the names deno needs, and only those that are set", () => {
  const host = new Map([
    ["PATH", "/usr/bin"],
    ["HOME", "/root"],
    ["https_proxy", "http://proxy:3128"],
    ["AWS_SECRET_ACCESS_KEY", "never"],
    ["SUPABASE_SERVICE_ROLE_KEY", "never"],
  ]);
  assert.deepEqual(passthroughEnv(host), {
    PATH: "/usr/bin",
    HOME: "/root",
    https_proxy: "http://proxy:3128",
  });
  assert.ok(!PASSTHROUGH_ENV_NAMES.some((name) => name.startsWith("SUPABASE_")));
});

Deno.test("functionCommand() runs the entry with the function's index.ts, four permissions, the heap cap and a clean env", () => {
  const command = functionCommand({
    configPath: "/repo/deno.json",
    functionsDir: "/repo/supabase/functions",
    name: "refresh-worker",
    memoryLimitMb: 128,
    env: { SUPABASE_URL: "http://x", [ENTRY_NAME_ENV]: "spoofed" },
  });
  assert.deepEqual(command.args, [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    "--v8-flags=--max-old-space-size=128",
    "--config",
    "/repo/deno.json",
    join(HERE, "function_entry.ts"),
    "/repo/supabase/functions/refresh-worker/index.ts",
  ]);
  assert.equal(command.cwd, "/repo");
  assert.equal(command.clearEnv, true);
  assert.deepEqual(command.env, {
    SUPABASE_URL: "http://x",
    [ENTRY_NAME_ENV]: "refresh-worker",
    [ENTRY_HOSTNAME_ENV]: "127.0.0.1",
    [ENTRY_PORT_ENV]: "0",
  });
  assert.deepEqual([command.stdin, command.stdout, command.stderr], ["piped", "piped", "piped"]);
});

Deno.test("FunctionSupervisor starts a function's process with its env, and close() stops every one", async () => {
  const logs: LogEntry[] = [];
  const supervisor = new FunctionSupervisor({
    denoPath: Deno.execPath(),
    configPath: join(REPO, "deno.json"),
    functionsDir: FIXTURES,
    env: { ...passthroughEnv(Deno.env), SUPABASE_URL: "http://from-the-supervisor" },
    limits: HOSTED_EDGE_LIMITS,
    stopGraceMs: 2_000,
    maxProcessesPerFunction: 4,
    idleProcessMs: 30_000,
    log: (entry) => logs.push(entry),
  });
  let closed = false;
  try {
    const pool = supervisor.pool("echo");
    assert.equal(supervisor.pool("echo"), pool, "one pool per function");
    const worker = await pool.acquire();
    const port = await worker.ready;
    const echo = await (await fetch(`http://127.0.0.1:${port}/echo`)).json();
    assert.equal(echo.env.SUPABASE_URL, "http://from-the-supervisor");
    assert.ok(!echo.env_names.includes(ENTRY_NAME_ENV), "the entry's own variables are removed");
    pool.release(worker, { reusable: true });
    assert.equal(supervisor.running, 1);

    const closing = supervisor.close();
    assert.equal(supervisor.close(), closing, "close() twice is one close");
    await closing;
    closed = true;
    assert.equal(worker.exited, true);
    assert.equal(supervisor.running, 0);
    await assert.rejects(pool.acquire(), PoolClosedError);
    assert.deepEqual(
      logs.filter((e) => e.event === "function_started" || e.event === "function_exited")
        .map((e) => [e.event, e.function, e.pid]),
      [["function_started", "echo", worker.pid], ["function_exited", "echo", worker.pid]],
    );
  } finally {
    if (!closed) await supervisor.close();
  }
});
