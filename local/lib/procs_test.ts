// Tests for the stack's process helpers. They run real commands (`sh`, `sleep`, `setsid`) and
// open real sockets; nothing needs a running stack.

import assert from "node:assert/strict";
import { isAlive, portOpen, readPid, run, spawnDetached, stopDetached, waitFor } from "./procs.ts";

Deno.test("run() returns exit code and output, feeds stdin, and throws with the output on failure", async () => {
  assert.deepEqual(await run("sh", ["-c", "echo out; echo err >&2"]), {
    code: 0,
    stdout: "out\n",
    stderr: "err\n",
  });
  assert.equal((await run("cat", [], { stdin: "fed" })).stdout, "fed");
  assert.equal((await run("sh", ["-c", "pwd"], { cwd: "/" })).stdout, "/\n");
  assert.equal((await run("sh", ["-c", "echo $X"], { env: { X: "set" } })).stdout, "set\n");
  await assert.rejects(
    run("sh", ["-c", "echo why >&2; exit 3"]),
    (error: Error) => {
      assert.equal(error.message, "sh -c echo why >&2; exit 3 failed (exit 3):\nwhy");
      return true;
    },
  );
  assert.equal((await run("sh", ["-c", "exit 4"], { allowFail: true })).code, 4);
});

Deno.test("isAlive() and readPid() tell a live pid from a missing, stale or garbled pid file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/x.pid`;
    assert.equal(isAlive(Deno.pid), true);
    assert.equal(await readPid(file), null);
    await Deno.writeTextFile(file, `${Deno.pid}\n`);
    assert.equal(await readPid(file), Deno.pid);
    const gone = await new Deno.Command("true").spawn();
    await gone.status;
    assert.equal(isAlive(gone.pid), false);
    await Deno.writeTextFile(file, String(gone.pid));
    assert.equal(await readPid(file), null);
    for (const garbled of ["", "abc", "-1", "0", "1.5"]) {
      await Deno.writeTextFile(file, garbled);
      assert.equal(await readPid(file), null, garbled);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawnDetached() starts a process in its own session with pid and log files; stopDetached() ends its group", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pidFile = `${dir}/svc.pid`;
    const logFile = `${dir}/svc.log`;
    // The child has a child of its own: stopping the group must end both.
    const pid = await spawnDetached(
      ["sh", "-c", 'echo "started $GREETING"; sleep 60 & echo $! > child.pid; wait'],
      {
        pidFile,
        logFile,
        env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", GREETING: "hi" },
        cwd: dir,
      },
    );
    assert.equal(await readPid(pidFile), pid);
    await waitFor(
      async () => (await Deno.readTextFile(logFile).catch(() => "")).includes("started hi"),
      "no log line",
      5_000,
    );
    const session = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ")[3];
    assert.equal(Number(session), pid, "the service leads its own session");
    await waitFor(async () => (await readPid(`${dir}/child.pid`)) !== null, "no child", 5_000);
    const sleeper = (await readPid(`${dir}/child.pid`))!;
    assert.ok(isAlive(sleeper));

    assert.equal(await stopDetached(pidFile, 2_000), true);
    assert.equal(isAlive(pid), false);
    await waitFor(() => Promise.resolve(!isAlive(sleeper)), "the group's child lives on", 2_000);
    await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound);
    assert.equal(await stopDetached(pidFile), false, "nothing left to stop");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("portOpen() is true while something listens on 127.0.0.1:port and false after", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const accepting = (async () => {
    for await (const connection of listener) connection.close();
  })();
  assert.equal(await portOpen(port), true);
  listener.close();
  await accepting.catch(() => {});
  assert.equal(await portOpen(port), false);
});

Deno.test("waitFor() returns once the check holds and throws its message when time runs out", async () => {
  let calls = 0;
  await waitFor(() => Promise.resolve(++calls === 2), "never", 5_000);
  assert.equal(calls, 2);
  await assert.rejects(
    waitFor(() => Promise.resolve(false), "still down", 150),
    /^Error: still down$/,
  );
});
