/**
 * Applied migrations are frozen: `supabase db push` records a migration's version, never its
 * text, so an edited file is not applied again anywhere it already ran. The committed list
 * `supabase/migrations.sha256` (the format `sha256sum` writes and `sha256sum -c` checks) holds
 * one line per migration file; {@link checkFrozenMigrations} compares it with the folder.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The list of frozen migrations, relative to the repository root. */
export const FROZEN_LIST = "supabase/migrations.sha256";
/** The migrations folder, relative to the repository root. */
export const MIGRATIONS_DIR = "supabase/migrations";
/** What the Supabase CLI reads as a migration, with this project's 3-digit versions. */
const MIGRATION_FILE = /^\d{3}_[a-z0-9_]+\.sql$/;

/** One `<sha256>  <path>` line of {@link FROZEN_LIST}. */
export interface FrozenEntry {
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  /** Path relative to the repository root, e.g. `supabase/migrations/001_x.sql`. */
  path: string;
}

/** Parses {@link FROZEN_LIST}'s text; throws naming the first line that is not `<sha256>  <path>`. */
export function parseFrozenList(text: string): FrozenEntry[] {
  const entries: FrozenEntry[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const match = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
    if (!match) {
      throw new Error(
        `${FROZEN_LIST} line ${i + 1} is not "<sha256>  <path>": ${JSON.stringify(line)}`,
      );
    }
    entries.push({ sha256: match[1], path: match[2] });
  });
  return entries;
}

/** Hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function howToProceed(path: string): string {
  return `Applied migrations are never re-applied by \`supabase db push\`: put the change in a new ` +
    `migration (the next free NNN_name.sql). Only a behaviour-free edit (a comment) may touch an ` +
    `existing file: then update its line with \`sha256sum ${path}\` in ${FROZEN_LIST} and say so ` +
    `in the commit message.`;
}

/**
 * Every difference between the migrations folder under `root` and {@link FROZEN_LIST}: a file
 * whose bytes changed, a listed file that is gone, a migration that is not listed, a file in
 * the folder that the CLI would not read as a 3-digit migration. Each problem says what to do;
 * an empty array means the folder matches the list.
 */
export async function checkFrozenMigrations(root: string): Promise<string[]> {
  const problems: string[] = [];
  const entries = parseFrozenList(await Deno.readTextFile(`${root}/${FROZEN_LIST}`));
  const listed = new Map(entries.map((e) => [e.path, e.sha256]));
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${MIGRATIONS_DIR}`)) {
    if (!entry.isFile) continue;
    if (!MIGRATION_FILE.test(entry.name)) {
      problems.push(
        `${MIGRATIONS_DIR}/${entry.name} is not named NNN_name.sql (3 digits, lowercase): the CLI ` +
          `compares versions as text, so every migration keeps the same width`,
      );
      continue;
    }
    files.push(`${MIGRATIONS_DIR}/${entry.name}`);
  }
  files.sort();
  for (const path of files) {
    const sha256 = sha256Hex(await Deno.readFile(`${root}/${path}`));
    const frozen = listed.get(path);
    if (frozen === undefined) {
      problems.push(
        `${path} is not in ${FROZEN_LIST}: a new migration is frozen once committed; add its ` +
          `line with \`sha256sum ${path} >> ${FROZEN_LIST}\``,
      );
    } else if (frozen !== sha256) {
      problems.push(
        `${path} changed after it was frozen (listed sha256 ${frozen}, now ${sha256}). ` +
          howToProceed(path),
      );
    }
  }
  for (const { path } of entries) {
    if (!files.includes(path)) {
      problems.push(
        `${path} is listed in ${FROZEN_LIST} but missing: a migration that may have been ` +
          `applied cannot be removed (\`db push\` would refuse the project's history); restore it`,
      );
    }
  }
  return problems;
}
