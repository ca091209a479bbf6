// Tests for one function's subprocess, with `sh` scripts playing the function (they print the
// entry's ready line themselves) and the test's own usage readings instead of /proc.

import assert from "node:assert/strict";
import { ENTRY_READY_EVENT } from "./function_entry.ts";
import { BootError, describeExit, FunctionProcess } from "./function_process.ts";
import type { LogEntry } from "./log.ts";
import type { ProcessUsage } from "./process_usage.ts";

const READY = JSON.stringify({ event: ENTRY_READY_EVENT, port: 4321 });

function sh(script: string): Deno.Command {
  return new Deno.Command("sh", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Starts `script`; `readings` are what each usage reading returns, in turn (then the last). */
function start(script: string, readings: Array<ProcessUsage | null> = [null]) {
  const logs: LogEntry[] = [];
  const exits: FunctionProcess[] = [];
  let read = 0;
  const process = new FunctionProcess(sh(script), {
    name: "fixture",
    log: (entry) => logs.push(entry),
    onExit: (exited) => exits.push(exited),
    readUsage: () => readings[Math.min(read++, readings.length - 1)],
  });
  return { process, logs, exits };
}

Deno.test("ready resolves with the port of the entry's ready line, logged as function_started", async () => {
  const usage = { cpuMs: 120, rssMb: 42.34, peakRssMb: 43 };
  const { process, logs } = start(`echo '${READY}'; cat`, [usage]);
  try {
    assert.equal(await process.ready, 4321);
    assert.equal(process.bootCpuMs, 120);
    assert.ok(process.readyAt !== undefined);
    const started = logs.find((e) => e.event === "function_started")!;
    assert.equal(started.function, "fixture");
    assert.equal(started.pid, process.pid);
    assert.equal(started.port, 4321);
    assert.equal(started.boot_cpu_ms, 120);
    assert.equal(started.rss_mb, 42.3);
    assert.equal(typeof started.boot_ms, "number");
  } finally {
    await process.stop(1_000);
  }
});

Deno.test("every output line is a function_log entry: JSON embedded, ANSI codes gone, stderr an error", async () => {
  const { process, logs } = start(
    `echo plain; echo '{"level":"warn","msg":"careful"}'; printf '\\033[31mred\\033[0m\\n' >&2; ` +
      `echo '{broken'; echo ''; echo '${READY}'; cat`,
  );
  await process.ready;
  await process.stop(1_000);
  const lines = (stream: string) =>
    logs.filter((e) => e.event === "function_log" && e.stream === stream)
      .map((e) => [e.level, e.line]);
  assert.deepEqual(lines("stdout"), [
    ["info", "plain"],
    ["warn", { level: "warn", msg: "careful" }],
    ["info", "{broken"],
  ]);
  assert.deepEqual(lines("stderr"), [["error", "red"]]);
});

Deno.test("V8's out-of-memory report on stderr marks the process outOfMemory", async () => {
  const quiet = start(`echo 'Fatal error elsewhere' >&2; echo '${READY}'; cat`);
  await quiet.process.ready;
  await quiet.process.stop(1_000);
  assert.equal(quiet.process.outOfMemory, false);
  const oom = start(`echo '# Fatal JavaScript out of memory: Ineffective' >&2; exit 134`);
  await oom.process.done;
  assert.equal(oom.process.outOfMemory, true);
});

Deno.test("a process that exits before it listens rejects ready with a BootError and logs its exit", async () => {
  const { process, logs, exits } = start("echo 'cannot load' >&2; exit 3");
  await assert.rejects(process.ready, (error: Error) => {
    assert.ok(error instanceof BootError);
    assert.equal(
      error.message,
      "Function 'fixture' exited (exit code 3) before it started listening; see its " +
        "function_log lines",
    );
    return true;
  });
  await process.done;
  assert.equal(process.exited, true);
  assert.equal(process.exitStatus?.code, 3);
  assert.deepEqual(exits, [process]);
  const exited = logs.find((e) => e.event === "function_exited")!;
  assert.deepEqual([exited.level, exited.code, exited.signal, exited.killed_for], [
    "warn",
    3,
    null,
    undefined,
  ]);
});

Deno.test("usage() counts CPU from when the process listened and keeps the last reading once it is gone", async () => {
  const { process } = start(`echo '${READY}'; cat`, [
    { cpuMs: 100, rssMb: 40, peakRssMb: 41 },
    { cpuMs: 250, rssMb: 50, peakRssMb: 52 },
    null,
  ]);
  await process.ready;
  assert.deepEqual(process.usage(), { cpuMs: 150, rssMb: 50, peakRssMb: 52 });
  assert.deepEqual(process.usage(), { cpuMs: 150, rssMb: 50, peakRssMb: 52 }, "a failed read");
  await process.stop(1_000);
  assert.deepEqual(process.usage(), { cpuMs: 150, rssMb: 50, peakRssMb: 52 });
});

Deno.test("kill() ends the process with SIGKILL and the exit line names the limit", async () => {
  const { process, logs } = start(`echo '${READY}'; cat`);
  await process.ready;
  process.kill("cpu");
  await process.done;
  assert.equal(process.killedFor, "cpu");
  assert.equal(process.exitStatus?.signal, "SIGKILL");
  const exited = logs.find((e) => e.event === "function_exited")!;
  assert.equal(exited.killed_for, "cpu");
});

Deno.test("stop() sends SIGTERM first: a process that ends on it is not killed", async () => {
  const { process } = start(`echo '${READY}'; cat`);
  await process.ready;
  await process.stop(10_000);
  assert.equal(process.exitStatus?.signal, "SIGTERM");
});

Deno.test("stop() sends SIGKILL after the grace period to a process that ignores SIGTERM", async () => {
  const { process } = start(`trap '' TERM; echo '${READY}'; while :; do sleep 0.05; done`);
  await process.ready;
  await process.stop(100);
  assert.equal(process.exitStatus?.signal, "SIGKILL");
});

Deno.test("describeExit() names the signal, else the exit code", () => {
  assert.equal(describeExit({ success: false, code: 137, signal: "SIGKILL" }), "signal SIGKILL");
  assert.equal(describeExit({ success: false, code: 1, signal: null }), "exit code 1");
});
