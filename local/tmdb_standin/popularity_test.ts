import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import {
  basePopularityOf,
  popularityAt,
  PopularityBoard,
  recencyFactor,
  round3,
} from "./popularity.ts";
import { DAY_MS, dayOf, NO_DATE } from "./time.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");

Deno.test("recency: boosted before and after release, fading; no date scores lower", () => {
  assert.equal(recencyFactor(NO_DATE, 100), 0.6);
  assert.equal(recencyFactor(100, 100), 7);
  assert.ok(recencyFactor(100, 95) > recencyFactor(100, 60));
  assert.ok(recencyFactor(100, 101) > recencyFactor(100, 150));
  assert.equal(recencyFactor(100, 191), 1);
  assert.equal(round3(1.23456), 1.235);
});

Deno.test("popularityAt: deterministic, moves with the version, float32 base", () => {
  const base = basePopularityOf(1, 1234);
  assert.equal(base, Math.fround(base));
  assert.equal(popularityAt(1, 1234, base, 50, 3, 9000), popularityAt(1, 1234, base, 50, 3, 9000));
  const versions = new Set(
    Array.from({ length: 10 }, (_, v) => popularityAt(1, 1234, base, 50, v, 9000)),
  );
  assert.ok(versions.size >= 8, "a new version redraws the wobble");
  assert.equal(basePopularityOf(7, 550), Math.fround(61.416));
});

Deno.test("the board holds what each movie shows at that instant", () => {
  const cat = createCatalog({ size: 3000, seed: 6, anchor: NOW });
  const board = new PopularityBoard({
    seed: cat.seed,
    countAt: () => cat.size,
    ids: () => cat.ids,
    attributes: cat.attributes,
    snapshot: (at) => {
      const version = new Int32Array(cat.size);
      const day = new Int32Array(cat.size);
      for (let i = 0; i < cat.size; i++) {
        const s = cat.stateAt(i, at);
        version[i] = s.version;
        day[i] = s.day;
      }
      return { atMs: at, count: cat.size, version, day };
    },
  });
  for (const at of [NOW, NOW + 3 * DAY_MS]) {
    const b = board.at(at);
    assert.strictEqual(board.at(at), b, "cached");
    for (let i = 0; i < cat.size; i += 11) {
      assert.equal(b.popularity[i], cat.details(cat.idOf(i), at)!.popularity, `movie ${i}`);
    }
  }
  assert.equal(dayOf(NOW), cat.anchorDay);
});
