/**
 * TMDB's daily id export files as discover-movies reads them: their names and URLs, and the
 * decompressed stream cut into segments that end at a line boundary, so each segment can be
 * COPYed and committed on its own and a later run can skip exactly the bytes already staged.
 * No line is parsed here: Postgres parses them (`public.discover_step`).
 *
 * @module
 */

/** Where TMDB publishes the exports (`TMDB_EXPORTS_BASE_URL` overrides it). */
export const DEFAULT_EXPORTS_BASE_URL = "https://files.tmdb.org/p/exports";

/** The files of one day, in import order: index 0 always, index 1 with adult titles. */
export const EXPORT_KINDS = ["movie", "adult_movie"] as const;

/** One of {@link EXPORT_KINDS}. */
export type ExportKind = (typeof EXPORT_KINDS)[number];

const DAY_MS = 86_400_000;

/** The UTC day (`YYYY-MM-DD`) of an instant in epoch ms. */
export function utcDay(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** The day before `day` (`YYYY-MM-DD`). */
export function previousDay(day: string): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) - DAY_MS);
}

/** `movie_ids_MM_DD_YYYY.json.gz` (or `adult_movie_ids_…`) of `day` (`YYYY-MM-DD`). */
export function exportFileName(kind: ExportKind, day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new RangeError(`day must be YYYY-MM-DD: current value is ${JSON.stringify(day)}`);
  return `${kind}_ids_${m[2]}_${m[3]}_${m[1]}.json.gz`;
}

/** The URL of a day's file under `baseUrl` (no trailing slash needed). */
export function exportUrl(baseUrl: string, kind: ExportKind, day: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${exportFileName(kind, day)}`;
}

/** A piece of the decompressed file that ends at a line boundary (or at the file's end). */
export interface Segment {
  /** The bytes, in order (no copy: sub-arrays of the stream's chunks). */
  chunks: Uint8Array[];
  /** Bytes of the file before this segment ends (the position to resume from). */
  endOffset: number;
  /** Whether the file ends with this segment. */
  last: boolean;
}

/** Options of {@link segments}. */
export interface SegmentOptions {
  /** Decompressed bytes already staged, skipped (a line boundary). Default 0. */
  skipBytes?: number;
  /** A segment ends at the first line end after this many bytes. */
  segmentBytes: number;
}

const NEWLINE = 10;

/**
 * Cuts a decompressed byte stream into {@link Segment}s of about `segmentBytes`, each ending
 * just after a newline (the last one at the end of the file, which may lack one), after
 * skipping `skipBytes`. Only one segment (plus the line that crosses its end) is held at a
 * time: the stream is read as segments are consumed.
 */
export async function* segments(
  stream: ReadableStream<Uint8Array>,
  options: SegmentOptions,
): AsyncGenerator<Segment> {
  const { segmentBytes } = options;
  let skip = options.skipBytes ?? 0;
  if (!(Number.isSafeInteger(segmentBytes) && segmentBytes >= 1)) {
    throw new RangeError(
      `segmentBytes must be a positive integer: current value is ${segmentBytes}`,
    );
  }
  let offset = skip; // bytes of the file before `pending`
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      if (skip > 0) {
        if (chunk.length <= skip) {
          skip -= chunk.length;
          continue;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      if (chunk.length === 0) continue;
      if (pendingBytes + chunk.length < segmentBytes) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        continue;
      }
      const cut = chunk.lastIndexOf(NEWLINE) + 1;
      if (cut === 0) {
        // No line ends in this chunk: the segment goes on until one does.
        pending.push(chunk);
        pendingBytes += chunk.length;
        continue;
      }
      pending.push(chunk.subarray(0, cut));
      offset += pendingBytes + cut;
      yield { chunks: pending, endOffset: offset, last: false };
      pending = cut < chunk.length ? [chunk.subarray(cut)] : [];
      pendingBytes = chunk.length - cut;
    }
    if (skip > 0) {
      throw new Error(`the export ended ${skip} bytes before the position to resume from`);
    }
    yield { chunks: pending, endOffset: offset + pendingBytes, last: true };
  } finally {
    reader.releaseLock();
  }
}
