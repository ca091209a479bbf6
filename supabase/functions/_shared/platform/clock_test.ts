import assert from "node:assert/strict";
import { systemClock } from "./clock.ts";

Deno.test("systemClock.now() returns epoch milliseconds", () => {
  const before = Date.now();
  const now = systemClock.now();
  assert.ok(now >= before && now <= Date.now());
});

Deno.test("systemClock.sleep(0) resolves and an aborted signal rejects with its reason", async () => {
  await systemClock.sleep(0);
  const controller = new AbortController();
  const reason = new Error("stop");
  const pending = systemClock.sleep(60_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
  await assert.rejects(systemClock.sleep(1, controller.signal), (e) => e === reason);
});
