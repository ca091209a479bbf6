import assert from "node:assert/strict";
import { FakeClock } from "./fake_clock.ts";

Deno.test("FakeClock.sleep() resolves only once advance() reaches its deadline", async () => {
  const clock = new FakeClock({ start: 1_000 });
  let woke = false;
  const done = clock.sleep(500).then(() => {
    woke = true;
  });
  await clock.advance(499);
  assert.equal(woke, false);
  assert.equal(clock.now(), 1_499);
  await clock.advance(1);
  await done;
  assert.equal(woke, true);
  assert.equal(clock.now(), 1_500);
});

Deno.test("FakeClock.advance() fires timers in deadline order, including ones started meanwhile", async () => {
  const clock = new FakeClock();
  const order: string[] = [];
  void clock.sleep(300).then(() => order.push(`c@${clock.now()}`));
  void clock.sleep(100).then(async () => {
    order.push(`a@${clock.now()}`);
    await clock.sleep(100);
    order.push(`b@${clock.now()}`);
  });
  await clock.advance(1_000);
  assert.deepEqual(order, ["a@100", "b@200", "c@300"]);
  assert.equal(clock.now(), 1_000);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("FakeClock.sleep() rejects with the abort reason and drops the timer", async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  const pending = clock.sleep(100, controller.signal);
  assert.equal(clock.pendingTimers, 1);
  controller.abort(new Error("cancelled"));
  await assert.rejects(pending, /cancelled/);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("FakeClock with autoAdvance jumps to the next timer when the program is idle", async () => {
  const clock = new FakeClock({ autoAdvance: true });
  const started = clock.now();
  await clock.sleep(60_000);
  await Promise.all([clock.sleep(10), clock.sleep(20)]);
  assert.equal(clock.now() - started, 60_020);
});

Deno.test("FakeClock.runAll() fires every pending timer", async () => {
  const clock = new FakeClock();
  let count = 0;
  for (const ms of [5, 50, 500]) void clock.sleep(ms).then(() => count++);
  await clock.runAll();
  assert.equal(count, 3);
  assert.equal(clock.now(), 500);
});

Deno.test("FakeClock with instantSleep moves time on by each sleep at once", async () => {
  const clock = new FakeClock({ start: 1_000, instantSleep: true });
  await clock.sleep(250);
  await clock.sleep(0);
  assert.equal(clock.now(), 1_250);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("FakeClock.jump() moves time at once and resolves the sleeps now due", async () => {
  const clock = new FakeClock({ start: 0 });
  let woke = false;
  const sleeping = clock.sleep(100).then(() => (woke = true));
  clock.jump(50);
  await Promise.resolve();
  assert.equal(woke, false);
  clock.jump(60);
  await sleeping;
  assert.equal(clock.now(), 110);
  assert.equal(woke, true);
});
