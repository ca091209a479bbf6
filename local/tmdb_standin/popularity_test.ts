import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import { basePopularityOf, DORMANT_SHARE, TAIL_INDEX } from "./base_popularity.ts";
import { popularityAt, PopularityBoard, recencyFactor, round3 } from "./popularity.ts";
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

Deno.test("base popularity is heavy-tailed: most movies near 0.6, a few very popular", () => {
  const n = 400_000;
  const pops = new Float64Array(n);
  for (let i = 0; i < n; i++) pops[i] = basePopularityOf(1, 2 + i * 3);
  pops.sort();
  const q = (p: number) => pops[Math.floor(p * (n - 1))];
  const near = pops.filter((x) => x >= 0.6 && x < 0.7).length / n;
  assert.ok(Math.abs(near - DORMANT_SHARE) < 0.01, `share in [0.6, 0.7): ${near}`);
  assert.ok(pops[0] >= 0.6, `minimum ${pops[0]}`);
  assert.ok(q(0.5) > 0.6 && q(0.5) < 0.75, `median ${q(0.5)}`);
  const mean = pops.reduce((s, x) => s + x, 0) / n;
  assert.ok(mean > 1.5 * q(0.5), `mean ${mean} well above the median ${q(0.5)}`);
  assert.ok(q(0.999) > 30 * q(0.5), `p99.9 ${q(0.999)}`);
  assert.ok(pops[n - 1] > 300 && pops[n - 1] < 20_000, `max ${pops[n - 1]}`);
  // Tail index (Hill estimator over the top 1 %): close to TAIL_INDEX.
  const k = n / 100;
  const threshold = pops[n - k - 1];
  let sum = 0;
  for (let i = n - k; i < n; i++) sum += Math.log(pops[i] / threshold);
  const hill = k / sum;
  assert.ok(Math.abs(hill - TAIL_INDEX) < 0.15, `tail index ${hill}`);
  // Other seeds, same shape.
  const other = Array.from({ length: 20_000 }, (_, i) => basePopularityOf(9, 2 + i * 3));
  const near9 = other.filter((x) => x < 0.7).length / other.length;
  assert.ok(Math.abs(near9 - DORMANT_SHARE) < 0.02, `seed 9: ${near9}`);
});

Deno.test("served popularity: a few movies in the hundreds, the bulk between 0.36 and 1", () => {
  const cat = createCatalog({ size: 30_000, seed: 1, anchor: NOW });
  const top = cat.popular(NOW, 1).results;
  assert.ok(top[0].popularity > 100, `top ${top[0].popularity}`);
  const b = new PopularityBoard({
    seed: cat.seed,
    countAt: () => cat.size,
    ids: () => cat.ids,
    attributes: cat.attributes,
    snapshot: (at) => ({
      atMs: at,
      count: cat.size,
      version: new Int32Array(cat.size),
      day: new Int32Array(cat.size).fill(dayOf(at)),
    }),
  }).at(NOW).popularity;
  const low = b.filter((x) => x >= 0.36 && x < 1).length / cat.size;
  assert.ok(low > 0.55 && low < 0.8, `share between 0.36 and 1: ${low}`);
});
