import assert from "node:assert/strict";
import { logEntry, roundMb } from "./log.ts";

Deno.test("logEntry() stamps the time first and keeps level, event and fields", () => {
  const before = Date.now();
  const entry = logEntry("warn", "something", { pid: 7, level_hint: "x" });
  assert.deepEqual(Object.keys(entry), ["ts", "level", "event", "pid", "level_hint"]);
  assert.equal(entry.level, "warn");
  assert.equal(entry.event, "something");
  assert.equal(entry.pid, 7);
  const ts = Date.parse(entry.ts);
  assert.ok(ts >= before - 1 && ts <= Date.now() + 1, entry.ts);
  assert.match(entry.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

Deno.test("roundMb() keeps one decimal", () => {
  assert.equal(roundMb(55.26), 55.3);
  assert.equal(roundMb(55.24), 55.2);
  assert.equal(roundMb(0), 0);
});
