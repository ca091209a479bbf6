import assert from "node:assert/strict";
import { DAY_MS, dayOf, HOUR_MS, isoDay, SimClock, toMs } from "./time.ts";

Deno.test("isoDay matches toISOString for every day 1700..2300; dayOf inverts it", () => {
  const from = dayOf(Date.UTC(1700, 0, 1));
  const to = dayOf(Date.UTC(2300, 0, 1));
  for (let day = from; day <= to; day++) {
    assert.equal(isoDay(day), new Date(day * DAY_MS).toISOString().slice(0, 10));
  }
  assert.equal(isoDay(0), "1970-01-01");
  assert.equal(isoDay(-1), "1969-12-31");
  assert.equal(dayOf(Date.parse("2026-03-01T23:59:59.999Z")), dayOf(Date.parse("2026-03-01")));
  assert.equal(dayOf(-1), -1, "instants before 1970 fall on the day before");
  assert.equal(DAY_MS, 24 * HOUR_MS);
});

Deno.test("toMs accepts dates, strings and numbers and names what was invalid", () => {
  const ms = Date.parse("2026-03-01T00:00:00Z");
  assert.equal(toMs(new Date(ms)), ms);
  assert.equal(toMs("2026-03-01T00:00:00Z"), ms);
  assert.equal(toMs(ms), ms);
  assert.throws(() => toMs("tomorrow", "catalog anchor"), /catalog anchor is not a valid date/);
});

Deno.test("SimClock: base time plus an offset that setNow and advance move", () => {
  let base = Date.parse("2026-03-01T12:00:00Z");
  const clock = new SimClock(() => new Date(base));
  assert.equal(clock.nowMs(), base);
  clock.advance(DAY_MS);
  assert.equal(clock.now().toISOString(), "2026-03-02T12:00:00.000Z");
  base += 1000; // time keeps flowing from the set point
  assert.equal(clock.now().toISOString(), "2026-03-02T12:00:01.000Z");
  clock.setNow("2026-01-01T00:00:00Z");
  assert.equal(clock.now().toISOString(), "2026-01-01T00:00:00.000Z");
  clock.setNow(new Date("2026-01-02T00:00:00Z"));
  assert.equal(clock.now().toISOString(), "2026-01-02T00:00:00.000Z");
  assert.throws(() => clock.setNow("nope"), /setNow: not a valid date: nope/);
  assert.throws(() => clock.advance(NaN), /advance: not a finite number/);
});
