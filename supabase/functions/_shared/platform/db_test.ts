import assert from "node:assert/strict";
import { createSql, sqlOptions, usesTransactionPooler } from "./db.ts";

Deno.test("usesTransactionPooler() is true only for port 6543", () => {
  assert.equal(
    usesTransactionPooler(
      "postgresql://postgres.ref:pw@aws-0-eu.pooler.supabase.com:6543/postgres",
    ),
    true,
  );
  assert.equal(
    usesTransactionPooler("postgresql://postgres:pw@db.ref.supabase.co:5432/postgres"),
    false,
  );
  assert.equal(usesTransactionPooler("postgresql://postgres@127.0.0.1:54322/postgres"), false);
  // A password that makes URL parsing fail (an unencoded `#`) still works.
  assert.equal(usesTransactionPooler("postgresql://u:p#ss@host:6543/postgres"), true);
});

Deno.test("sqlOptions() turns prepared statements off behind the transaction pooler", () => {
  const pooled = sqlOptions("postgresql://u:p@host:6543/postgres", {
    applicationName: "ingest-movie",
  });
  assert.equal(pooled.prepare, false);
  assert.equal(pooled.max, 4);
  assert.deepEqual(pooled.connection, { application_name: "ingest-movie" });
  assert.equal(typeof pooled.onnotice, "function");
  assert.ok(pooled.idle_timeout > 0 && pooled.connect_timeout > 0);
  assert.equal(sqlOptions("postgresql://u:p@host:5432/postgres").prepare, true);
  assert.throws(
    () => sqlOptions("postgresql://h/db", { max: 0 }),
    /`max` must be a positive integer: current value is 0/,
  );
});

Deno.test("createSql() does not connect until the first query", async () => {
  const sql = createSql("postgresql://postgres:pw@127.0.0.1:1/postgres", { max: 2 });
  assert.equal(typeof sql, "function");
  await sql.end();
});
