/**
 * Background processes of a local stack: started detached (own session, so they outlive
 * `npm start`), with a pid file and a log file each, stopped by process group.
 */

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: string; allowFail?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const res = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if (res.code !== 0 && !opts.allowFail) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${res.code}):\n${(res.stderr || res.stdout).trim()}`,
    );
  }
  return res;
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Reads a pid file; null when absent or stale. */
export async function readPid(pidFile: string): Promise<number | null> {
  try {
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Starts `cmd` detached in its own session with stdout/stderr appended to `logFile`, and
 * records its pid in `pidFile`. Returns the pid.
 */
export async function spawnDetached(
  cmd: string[],
  opts: { pidFile: string; logFile: string; env: Record<string, string>; cwd: string },
): Promise<number> {
  await Deno.remove(opts.pidFile).catch(() => {});
  const script = 'echo $$ > "$0"; exec "$@" >>"$STACK_LOG_FILE" 2>&1 </dev/null';
  await run("setsid", ["-f", "bash", "-c", script, opts.pidFile, ...cmd], {
    env: { ...opts.env, STACK_LOG_FILE: opts.logFile },
    cwd: opts.cwd,
  });
  for (let i = 0; i < 100; i++) {
    const pid = await readPid(opts.pidFile);
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${cmd[0]} did not start: no pid in ${opts.pidFile}; see ${opts.logFile}`);
}

/** Stops a detached process (its whole process group): SIGTERM, then SIGKILL after `graceMs`. */
export async function stopDetached(pidFile: string, graceMs = 5000): Promise<boolean> {
  const pid = await readPid(pidFile);
  if (!pid) {
    await Deno.remove(pidFile).catch(() => {});
    return false;
  }
  const signal = (sig: Deno.Signal) => {
    try {
      Deno.kill(-pid, sig);
    } catch {
      try {
        Deno.kill(pid, sig);
      } catch { /* already gone */ }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) signal("SIGKILL");
  await Deno.remove(pidFile).catch(() => {});
  return true;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` returns true, or throws `message` after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean>,
  message: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(message);
}
