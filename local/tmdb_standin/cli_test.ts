import assert from "node:assert/strict";
import { spawnStandin } from "./test_support.ts";

Deno.test("CLI: prints a listening line, logs requests without secrets, exits on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./server.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--size",
      "500",
      "--token",
      "cli-secret",
      "--rate-limit",
      "100",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const nextLine = async (): Promise<string> => {
    while (!buffer.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stdout ended: ${buffer}`);
      buffer += value;
    }
    const i = buffer.indexOf("\n");
    const line = buffer.slice(0, i);
    buffer = buffer.slice(i + 1);
    return line;
  };
  try {
    const listening = JSON.parse(await nextLine());
    assert.equal(listening.event, "listening");
    assert.equal(listening.variation, "on", "variation is on unless --variation off");
    assert.match(listening.url, /^http:\/\/127\.0\.0\.1:\d+\/3$/);
    const res = await fetch(`${listening.url}/movie/550?api_key=cli-secret`, {
      headers: { authorization: "Bearer cli-secret" },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const line = await nextLine();
    const log = JSON.parse(line);
    assert.deepEqual(
      { event: log.event, method: log.method, path: log.path, status: log.status },
      { event: "request", method: "GET", path: "/3/movie/550", status: 200 },
    );
    assert.equal(typeof log.ms, "number");
    assert.ok(!line.includes("cli-secret"));
    child.kill("SIGTERM");
    let rest = buffer;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
    assert.match(rest, /"event":"stopped"/);
    const status = await child.status;
    assert.equal(status.code, 0);
  } finally {
    reader.releaseLock();
    await child.stderr.cancel();
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
  }
});

Deno.test("CLI: lifecycle and export flags reach the stand-in; bad values exit 2", async () => {
  const p = await spawnStandin([
    "--size",
    "800",
    "--additions-rate",
    "0.01",
    "--deletions-rate",
    "0",
    "--export-publish-hour",
    "7.5",
    "--now",
    "2026-03-01T07:45:00Z",
  ]);
  try {
    assert.equal(p.listening.additionsRate, 0.01);
    assert.equal(p.listening.deletionsRate, 0);
    const origin = p.listening.url.replace(/\/3$/, "");
    const settings = await fetch(`${origin}/__control/exports`).then((r) => r.json());
    assert.equal(settings.publishHourUtc, 7.5);
    const today = await fetch(`${origin}/p/exports/movie_ids_03_01_2026.json.gz`);
    assert.equal(today.status, 200, "published at 07:30 with --export-publish-hour 7.5");
    await today.body?.cancel();
  } finally {
    await p.stop();
  }
  for (const bad of [["--additions-rate", "0.5"], ["--export-publish-hour", "24"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./server.ts", import.meta.url).pathname, "--port", "0", ...bad],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, bad.join(" "));
    assert.match(new TextDecoder().decode(out.stderr), new RegExp(bad[0]));
  }
});
