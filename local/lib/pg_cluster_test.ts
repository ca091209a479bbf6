import assert from "node:assert/strict";
import {
  asPgUser,
  clusterExists,
  clusterSettings,
  pgBin,
  startFailureMessage,
} from "./pg_cluster.ts";
import type { StackConfig } from "./stack_config.ts";

/** The settings as a map (last value wins, as in postgresql.conf). */
function settings(text: string): Map<string, string> {
  return new Map(
    text.split("\n").filter((line) => line.includes(" = "))
      .map((line) => line.split(" = ") as [string, string]),
  );
}

Deno.test("asPgUser() runs a command as the postgres OS user from / when root, else as is", () => {
  assert.deepEqual(asPgUser("/bin/pg_ctl", ["status", "-D", "/d"], true), [
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      "sh",
      "-c",
      'cd / && exec "$0" "$@"',
      "/bin/pg_ctl",
      "status",
      "-D",
      "/d",
    ],
  ]);
  assert.deepEqual(asPgUser("/bin/pg_ctl", ["status"], false), ["/bin/pg_ctl", ["status"]]);
});

Deno.test("clusterSettings(): the stack's port on 127.0.0.1 only, pg_cron, UTC; durable only for dev", () => {
  const dev = settings(clusterSettings({ name: "dev", pgPort: 54322 }));
  assert.equal(dev.get("port"), "54322");
  assert.equal(dev.get("listen_addresses"), "'127.0.0.1'");
  assert.equal(dev.get("unix_socket_directories"), "''");
  assert.equal(dev.get("shared_preload_libraries"), "'pg_cron'");
  assert.equal(dev.get("cron.database_name"), "'postgres'");
  assert.equal(dev.get("timezone"), "'UTC'");
  for (const name of ["fsync", "synchronous_commit", "full_page_writes"]) {
    assert.equal(dev.get(name), "on", name);
  }
  const test = settings(clusterSettings({ name: "test", pgPort: 5322 }));
  assert.equal(test.get("port"), "5322");
  for (const name of ["fsync", "synchronous_commit", "full_page_writes"]) {
    assert.equal(test.get(name), "off", name);
  }
});

Deno.test("startFailureMessage() shows the output and log tail, and adds the stale lock hint only when it applies", () => {
  const cfg = { pgData: "/s/pgdata", pgPort: 55322 };
  const plain = startFailureMessage(cfg, {
    code: 1,
    stderr: "pg_ctl: could not start server",
    logFile: "/s/postgres.log",
    tail: "FATAL: could not bind IPv4 address",
  });
  assert.match(plain, /^PostgreSQL did not start on port 55322 \(exit 1\)\.\npg_ctl: could not/);
  assert.match(plain, /Last lines of \/s\/postgres\.log:\nFATAL: could not bind IPv4 address\n/);
  assert.match(plain, /ss -ltnp \| grep 55322/);
  assert.ok(!plain.includes("stale lock"), plain);
  const stale = startFailureMessage(cfg, {
    code: 1,
    stderr: "",
    logFile: "/s/postgres.log",
    tail: 'FATAL: lock file "postmaster.pid" already exists',
  });
  assert.match(stale, /A stale lock file blocks the start: .* delete \/s\/pgdata\/postmaster\.pid/);
});

Deno.test("clusterExists() is true once the data folder holds PG_VERSION", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = { pgData: `${dir}/pgdata` } as StackConfig;
    assert.equal(await clusterExists(cfg), false);
    await Deno.mkdir(cfg.pgData);
    assert.equal(await clusterExists(cfg), false);
    await Deno.writeTextFile(`${cfg.pgData}/PG_VERSION`, "15\n");
    assert.equal(await clusterExists(cfg), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pgBin() names a PostgreSQL 15 client binary", () => {
  assert.equal(pgBin("psql"), "/usr/lib/postgresql/15/bin/psql");
});
