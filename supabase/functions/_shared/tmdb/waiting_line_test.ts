import assert from "node:assert/strict";
import { WaitingLine } from "./waiting_line.ts";

Deno.test("WaitingLine grants in arrival order and counts the slots held until released", async () => {
  let releases = 0;
  const line = new WaitingLine(() => releases++);
  const order: number[] = [];
  const a = line.join().then((r) => (order.push(1), r));
  const b = line.join().then((r) => (order.push(2), r));
  assert.equal(line.waiting, 2);
  line.grantNext();
  line.grantNext();
  const [ra, rb] = await Promise.all([a, b]);
  assert.deepEqual(order, [1, 2]);
  assert.equal(line.active, 2);
  ra();
  ra();
  assert.equal(line.active, 1, "a second release does nothing");
  rb();
  assert.equal(line.active, 0);
  assert.equal(releases, 2);
});

Deno.test("WaitingLine: an aborted caller leaves the line with the abort reason", async () => {
  const line = new WaitingLine(() => {});
  const controller = new AbortController();
  const waiting = line.join(controller.signal);
  controller.abort(new Error("gave up"));
  await assert.rejects(waiting, /gave up/);
  assert.equal(line.waiting, 0);
  await assert.rejects(line.join(controller.signal), /gave up/, "already aborted: refused");
});

Deno.test("WaitingLine.rejectAll() empties the line", async () => {
  const line = new WaitingLine(() => {});
  const a = line.join();
  const b = line.join();
  line.rejectAll(new Error("bucket unreachable"));
  await assert.rejects(a, /bucket unreachable/);
  await assert.rejects(b, /bucket unreachable/);
  assert.equal(line.waiting, 0);
});
