import assert from "node:assert/strict";
import { IdLattice } from "./ids.ts";
import {
  ALWAYS,
  DEFAULT_ADDITIONS_RATE,
  DEFAULT_DELETIONS_RATE,
  Lifecycle,
  NEVER,
  poisson,
} from "./lifecycle.ts";
import { dayOf } from "./time.ts";

const ANCHOR = dayOf(Date.parse("2026-03-01T12:00:00Z"));
const BASELINE = ANCHOR - 30;

function lifecycle(size: number, seed = 1, options = {}) {
  return new Lifecycle(new IdLattice(size, seed), ANCHOR, BASELINE, options);
}

Deno.test("on the anchor day exactly `size` movies exist: indexes 0 .. size-1", () => {
  for (const size of [1, 50, 3000, 100_000]) {
    const lc = lifecycle(size);
    assert.equal(lc.countOn(ANCHOR), size, `size ${size}`);
    const add = lc.addDays(lc.countBy(ANCHOR));
    const del = lc.deleteDays(lc.countBy(ANCHOR));
    for (let i = 0; i < lc.countBy(ANCHOR); i++) {
      assert.equal(add[i] <= ANCHOR && ANCHOR < del[i], i < size, `size ${size}, idx ${i}`);
    }
  }
});

Deno.test("each day's count is the day before's plus additions minus deletions", () => {
  const lc = lifecycle(20_000, 3);
  let count = lc.countOn(BASELINE - 1);
  let added = 0;
  let deleted = 0;
  for (let day = BASELINE; day <= ANCHOR + 90; day++) {
    const events = lc.eventsOn(day);
    count += events.added.length - events.deleted.length;
    added += events.added.length;
    deleted += events.deleted.length;
    assert.equal(lc.countOn(day), count, `day ${day - ANCHOR}`);
    for (const i of events.added) assert.ok(!lc.existsOn(i, day - 1) && lc.existsOn(i, day));
    for (const i of events.deleted) assert.ok(lc.existsOn(i, day - 1) && !lc.existsOn(i, day));
  }
  assert.ok(added > 0 && deleted > 0);
  // Nothing happens before the baseline.
  assert.equal(lc.countOn(BASELINE - 40), lc.countOn(BASELINE - 1));
  assert.deepEqual(lc.eventsOn(BASELINE - 5), { added: [], deleted: [] });
});

Deno.test("additions and deletions happen at their rates, before and after the anchor", () => {
  const size = 300_000;
  const lc = lifecycle(size, 5);
  const days = 60;
  let added = 0;
  let deleted = 0;
  let alive = 0;
  for (let day = ANCHOR - 29; day <= ANCHOR + days - 30; day++) {
    const e = lc.eventsOn(day);
    added += e.added.length;
    deleted += e.deleted.length;
    alive += lc.countOn(day - 1);
  }
  const addMean = added / days;
  const expectAdd = DEFAULT_ADDITIONS_RATE * size; // 120 a day
  assert.ok(Math.abs(addMean - expectAdd) < 0.1 * expectAdd, `additions ${addMean}/day`);
  const expectDel = DEFAULT_DELETIONS_RATE * alive / days; // ~24 a day
  assert.ok(
    Math.abs(deleted / days - expectDel) < 0.2 * expectDel,
    `deletions ${deleted / days}/day, expected ${expectDel}`,
  );
  // Other rates, and none at all.
  const fast = lifecycle(10_000, 5, { additionsRate: 0.01, deletionsRate: 0.005 });
  const e = fast.eventsOn(ANCHOR + 3);
  assert.ok(e.added.length > 70 && e.added.length < 130, `${e.added.length} added`);
  assert.ok(e.deleted.length > 25 && e.deleted.length < 80, `${e.deleted.length} deleted`);
  const still = lifecycle(10_000, 5, { additionsRate: 0, deletionsRate: 0 });
  assert.equal(still.ghostCount, 0);
  assert.equal(still.firstAddedIndex, 10_000);
  assert.equal(still.countOn(ANCHOR + 500), 10_000);
  assert.equal(still.countOn(BASELINE), 10_000);
  assert.throws(() => lifecycle(10, 1, { additionsRate: -1 }), /additionsRate must be/);
  assert.throws(() => lifecycle(10, 1, { deletionsRate: 0.5 }), /deletionsRate must be/);
});

Deno.test("ids: additions take new ids above, ghosts free ids inside; every id maps back", () => {
  const lc = lifecycle(50_000, 7);
  const lattice = new IdLattice(50_000, 7);
  const top = lattice.idAt(49_999);
  const n = lc.countBy(ANCHOR + 200);
  const seen = new Set<number>();
  let ghosts = 0;
  let later = 0;
  for (let i = 0; i < n; i++) {
    const id = lc.idOf(i);
    assert.ok(!seen.has(id), `id ${id} used twice`);
    seen.add(id);
    assert.equal(lc.indexOf(id), i, `idx ${i}`);
    const kind = lc.kindOf(i);
    if (kind === "ghost") {
      ghosts++;
      assert.ok(id < top && lattice.latticeIndexOf(id) === -1);
      assert.equal(lc.addDay(i), ALWAYS);
      assert.ok(lc.deleteDay(i) >= BASELINE && lc.deleteDay(i) <= ANCHOR);
    } else if (kind === "addition") {
      later++;
      assert.ok(id > top);
      assert.ok(lc.addDay(i) > ANCHOR && lc.deleteDay(i) > lc.addDay(i));
      if (i > 0 && lc.kindOf(i - 1) === "addition") assert.ok(lc.addDay(i) >= lc.addDay(i - 1));
    } else {
      assert.ok(lc.deleteDay(i) > ANCHOR);
      const a = lc.addDay(i);
      assert.equal(a === ALWAYS, i < lc.firstAddedIndex, `idx ${i}`);
      if (a !== ALWAYS) assert.ok(a >= BASELINE && a <= ANCHOR);
    }
  }
  assert.ok(ghosts === lc.ghostCount && ghosts > 50, `${ghosts} ghosts`);
  assert.ok(later > 3000, `${later} later additions`);
  assert.equal(lc.indexOf(1), -1);
  assert.equal(lc.indexOf(lattice.idAt(lc.total - lc.ghostCount + 5)), -1, "past the horizon");
  // Fight Club is there from the start and never goes.
  const fc = lc.indexOf(550);
  assert.deepEqual([lc.addDay(fc), lc.deleteDay(fc)], [ALWAYS, NEVER]);
  // The view of ids matches idOf.
  const ids = lc.ids(n);
  for (let i = 0; i < n; i += 101) assert.equal(ids[i], lc.idOf(i));
});

Deno.test("deterministic per seed; another seed, another history", () => {
  const a = lifecycle(5000, 9);
  const b = lifecycle(5000, 9);
  const c = lifecycle(5000, 10);
  const history = (lc: Lifecycle) =>
    JSON.stringify(
      Array.from({ length: 80 }, (_, k) => lc.eventsOn(BASELINE + k)).map((e) => [
        e.added.map((i) => lc.idOf(i)),
        e.deleted.map((i) => lc.idOf(i)),
      ]),
    );
  assert.equal(history(a), history(b));
  assert.notEqual(history(a), history(c));
});

Deno.test("poisson: mean and spread for small and large λ", () => {
  for (const lambda of [0.3, 4, 50, 480]) {
    let sum = 0;
    let sq = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const k = poisson(lambda, (i + 0.5) / n, ((i * 7919) % n + 0.5) / n);
      sum += k;
      sq += k * k;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    assert.ok(Math.abs(mean - lambda) < 0.03 * lambda + 0.02, `λ ${lambda}: mean ${mean}`);
    assert.ok(Math.abs(variance - lambda) < 0.15 * lambda + 0.05, `λ ${lambda}: var ${variance}`);
  }
  assert.equal(poisson(0, 0.5, 0.5), 0);
});
