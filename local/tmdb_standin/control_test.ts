import assert from "node:assert/strict";
import { DAY_MS } from "./time.ts";
import { control, get, NOW, withStandin } from "./test_support.ts";

Deno.test("changes are listed after advancing the clock (control API and in-process)", async () => {
  await withStandin({}, async (s) => {
    const now = NOW.getTime();
    const next = s.catalog.changedIds(now + 1, now + DAY_MS, now + DAY_MS);
    assert.ok(next.length > 0);
    const id = next[0];
    const window = "start_date=2026-03-01T12:00:00Z&end_date=2026-03-02T12:00:00Z";
    const before = await get(s, `/movie/changes?${window}`);
    assert.ok(!before.body.results.some((x: { id: number }) => x.id === id));
    const detailsBefore = await get(s, `/movie/${id}`);

    const clock = await control(s, "clock", { advanceMs: DAY_MS });
    assert.equal(clock.now, "2026-03-02T12:00:00.000Z");
    const after = await get(s, `/movie/changes?${window}`);
    assert.ok(after.body.results.some((x: { id: number }) => x.id === id));
    const detailsAfter = await get(s, `/movie/${id}`);
    assert.notDeepEqual(detailsAfter.body, detailsBefore.body);

    const def = await get(s, "/movie/changes");
    assert.ok(def.body.results.some((x: { id: number }) => x.id === id));
    s.setNow(NOW);
    assert.equal(s.now().toISOString(), NOW.toISOString());
    assert.equal(
      (await control(s, "clock", { now: "2026-03-05T00:00:00Z" })).now,
      "2026-03-05T00:00:00.000Z",
    );
    s.advance(-DAY_MS);
    assert.equal((await control(s, "clock")).now, "2026-03-04T00:00:00.000Z");
    assert.equal((await control(s, "clock", { advanceMs: "x" })).status, 400);
  });
});

Deno.test("control API validates fault settings (400 on bad values)", async () => {
  await withStandin({}, async (s) => {
    assert.equal((await control(s, "faults", { errorRate5xx: 1.5 })).status, 400);
    assert.equal((await control(s, "faults", { hangRate: 0.6, rate429: 0.6 })).status, 400);
    assert.equal((await control(s, "faults", { bogus: 1 })).status, 400);
    assert.equal((await control(s, "faults", { notFoundIds: ["x"] })).status, 400);
    const res = await fetch(`${s.origin}/__control/faults`, { method: "POST", body: "{oops" });
    assert.equal(res.status, 400);
    await res.body?.cancel();
    assert.throws(() => s.setFaults({ malformedJsonRate: -1 }));
    assert.deepEqual((await control(s, "faults")).status, 200);
    const health = await control(s, "health");
    assert.equal(health.ok, true);
    assert.equal(health.size, 2000);
  });
});
