import assert from "node:assert/strict";
import {
  exportFileName,
  exportUrl,
  previousDay,
  type Segment,
  segments,
  utcDay,
} from "./export_files.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A stream of `text` in chunks of `size` bytes. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = enc.encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  skipBytes: number,
  segmentBytes: number,
) {
  const out: { text: string; endOffset: number; last: boolean }[] = [];
  for await (const s of segments(stream, { skipBytes, segmentBytes })) out.push(textOf(s));
  return out;
}

function textOf(s: Segment) {
  return {
    text: s.chunks.map((c) => dec.decode(c)).join(""),
    endOffset: s.endOffset,
    last: s.last,
  };
}

const LINES = Array.from({ length: 50 }, (_, i) => `{"id":${i + 1},"popularity":${i}}\n`).join("");

Deno.test("exportFileName() names TMDB's daily files MM_DD_YYYY; exportUrl() puts them under the base", () => {
  assert.equal(exportFileName("movie", "2026-03-07"), "movie_ids_03_07_2026.json.gz");
  assert.equal(exportFileName("adult_movie", "2026-12-31"), "adult_movie_ids_12_31_2026.json.gz");
  assert.equal(
    exportUrl("https://files.tmdb.org/p/exports/", "movie", "2026-01-02"),
    "https://files.tmdb.org/p/exports/movie_ids_01_02_2026.json.gz",
  );
  assert.throws(
    () => exportFileName("movie", "2026-3-7"),
    /day must be YYYY-MM-DD: current value is "2026-3-7"/,
  );
});

Deno.test("utcDay() and previousDay() count UTC days across months and years", () => {
  assert.equal(utcDay(Date.UTC(2026, 2, 1, 23, 59, 59)), "2026-03-01");
  assert.equal(previousDay("2026-03-01"), "2026-02-28");
  assert.equal(previousDay("2024-03-01"), "2024-02-29");
  assert.equal(previousDay("2027-01-01"), "2026-12-31");
});

Deno.test("segments() cuts after a newline once a segment reaches its size, and loses no byte", async () => {
  for (const chunk of [1, 7, 64, 4096]) {
    const got = await collect(chunked(LINES, chunk), 0, 100);
    assert.equal(got.map((s) => s.text).join(""), LINES, `chunks of ${chunk}`);
    for (const s of got.slice(0, -1)) {
      assert.ok(s.text.endsWith("\n"), `a segment ends at a line end (chunks of ${chunk})`);
      assert.equal(s.last, false);
    }
    assert.equal(got.at(-1)!.last, true);
    let offset = 0;
    for (const s of got) {
      offset += enc.encode(s.text).length;
      assert.equal(s.endOffset, offset);
    }
    if (chunk < 100) assert.ok(got.length > 3, `several segments (chunks of ${chunk})`);
  }
});

Deno.test("segments() resumes exactly after the bytes already staged", async () => {
  const first = await collect(chunked(LINES, 13), 0, 200);
  const resumeAt = first[1].endOffset;
  const rest = await collect(chunked(LINES, 13), resumeAt, 200);
  assert.equal(rest.map((s) => s.text).join(""), LINES.slice(resumeAt));
  assert.equal(rest[0].endOffset, first[2].endOffset);
});

Deno.test("segments() keeps a last line without newline, and a line longer than any chunk whole", async () => {
  const long = `{"id":1,"original_title":"${"x".repeat(300)}"}\n{"id":2}`;
  const got = await collect(chunked(long, 16), 0, 32);
  assert.deepEqual(got.map((s) => s.text), [long.slice(0, long.indexOf("\n") + 1), '{"id":2}']);
  assert.equal(got[1].last, true);
  assert.equal(got[1].endOffset, enc.encode(long).length);
});

Deno.test("segments() refuses a position beyond the file's end, and a segment size below 1", async () => {
  await assert.rejects(
    () => collect(chunked("{}\n", 2), 10, 100),
    /the export ended 7 bytes before the position to resume from/,
  );
  await assert.rejects(
    () => collect(chunked("{}\n", 2), 0, 0),
    /segmentBytes must be a positive integer: current value is 0/,
  );
});
