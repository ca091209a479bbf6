import assert from "node:assert/strict";
import { FakeClock } from "../_shared/testing/fake_clock.ts";
import { createMemoryLogger } from "../_shared/testing/memory_logger.ts";
import type { TmdbIdPage } from "../_shared/tmdb/schemas.ts";
import { changeWindows, readChangeFeed } from "./change_feed.ts";

const NOW = Date.parse("2026-11-02T10:30:00Z");
const DAY = 86_400_000;
const HOUR = 3_600_000;
const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / DAY;

Deno.test("changeWindows splits a range into contiguous windows of at most 14 days", () => {
  const from = Date.parse("2026-10-01T06:00:00Z");
  const to = Date.parse("2026-11-02T10:30:00Z");
  const windows = changeWindows(from, to);
  assert.deepEqual(windows, [
    {
      startDate: "2026-10-01",
      endDate: "2026-10-15",
      endsAt: Date.parse("2026-10-16T00:00:00Z"),
    },
    {
      startDate: "2026-10-16",
      endDate: "2026-10-30",
      endsAt: Date.parse("2026-10-31T00:00:00Z"),
    },
    { startDate: "2026-10-31", endDate: "2026-11-02", endsAt: to },
  ]);
  for (const w of windows) assert.ok(days(w.startDate, w.endDate) <= 14);
});

Deno.test("changeWindows gives one window for a range within a day or a watermark in the future", () => {
  assert.deepEqual(changeWindows(NOW - HOUR, NOW), [
    { startDate: "2026-11-02", endDate: "2026-11-02", endsAt: NOW },
  ]);
  assert.deepEqual(changeWindows(NOW + 3 * DAY, NOW), [
    { startDate: "2026-11-02", endDate: "2026-11-02", endsAt: NOW },
  ]);
});

Deno.test("readChangeFeed() reads pages 1–500 of a window whatever total_pages says, and warns", async () => {
  const calls: number[] = [];
  const logger = createMemoryLogger({ fn: "test" });
  const feed = await readChangeFeed(changeWindows(NOW - HOUR, NOW), {
    tmdb: {
      movieChanges(q) {
        calls.push(q.page);
        const page: TmdbIdPage = { page: q.page, ids: [q.page], total_pages: 900, drift: {} };
        return Promise.resolve(page);
      },
    },
    clock: new FakeClock({ start: NOW }),
    pagesDeadline: NOW + 60_000,
    callDeadline: NOW + 60_000,
    logger,
    cpuSpent: () => false,
  });
  assert.equal(calls.length, 500);
  assert.equal(calls.at(-1), 500);
  assert.equal(feed.ids.length, 500);
  assert.equal(feed.windowsComplete, 1);
  assert.equal(feed.watermark, NOW);
  const warning = logger.entries.find((e) => e.event === "changes_window_truncated")!;
  assert.equal(warning.total_pages, 900);
});
