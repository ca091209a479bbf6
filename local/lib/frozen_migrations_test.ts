import assert from "node:assert/strict";
import {
  checkFrozenMigrations,
  FROZEN_LIST,
  parseFrozenList,
  sha256Hex,
} from "./frozen_migrations.ts";
import { REPO_ROOT } from "./stack_config.ts";

const enc = new TextEncoder();

/** A scratch repository with `files` under supabase/migrations and the given list text. */
async function scratchRepo(files: Record<string, string>, list: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "frozen-migrations-" });
  await Deno.mkdir(`${root}/supabase/migrations`, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${root}/supabase/migrations/${name}`, text);
  }
  await Deno.writeTextFile(`${root}/${FROZEN_LIST}`, list);
  return root;
}

function line(name: string, text: string): string {
  return `${sha256Hex(enc.encode(text))}  supabase/migrations/${name}\n`;
}

Deno.test("the committed migrations match supabase/migrations.sha256 (applied migrations are frozen)", async () => {
  assert.deepEqual(await checkFrozenMigrations(REPO_ROOT), []);
});

Deno.test("checkFrozenMigrations() reports an edited migration with both hashes and how to proceed", async () => {
  const root = await scratchRepo(
    { "001_a.sql": "select 2;\n" },
    line("001_a.sql", "select 1;\n"),
  );
  try {
    const [problem, ...rest] = await checkFrozenMigrations(root);
    assert.deepEqual(rest, []);
    assert.match(problem, /^supabase\/migrations\/001_a\.sql changed after it was frozen/);
    assert.ok(problem.includes(sha256Hex(enc.encode("select 1;\n"))), "the listed hash");
    assert.ok(problem.includes(sha256Hex(enc.encode("select 2;\n"))), "the current hash");
    assert.match(problem, /put the change in a new migration/);
    assert.match(problem, /comment.*sha256sum supabase\/migrations\/001_a\.sql.*commit message/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkFrozenMigrations() reports an unlisted migration, a removed one and a badly named file", async () => {
  const root = await scratchRepo(
    { "001_a.sql": "a", "002_b.sql": "b", "20260101000000_c.sql": "c" },
    line("001_a.sql", "a") + line("003_gone.sql", "x"),
  );
  try {
    assert.deepEqual(await checkFrozenMigrations(root), [
      "supabase/migrations/20260101000000_c.sql is not named NNN_name.sql (3 digits, " +
      "lowercase): the CLI compares versions as text, so every migration keeps the same width",
      `supabase/migrations/002_b.sql is not in ${FROZEN_LIST}: a new migration is frozen once ` +
      `committed; add its line with \`sha256sum supabase/migrations/002_b.sql >> ${FROZEN_LIST}\``,
      `supabase/migrations/003_gone.sql is listed in ${FROZEN_LIST} but missing: a migration ` +
      "that may have been applied cannot be removed (`db push` would refuse the project's " +
      "history); restore it",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkFrozenMigrations() accepts a folder that matches its list, byte for byte", async () => {
  const root = await scratchRepo(
    { "001_a.sql": "a\r\n", "002_b.sql": "b" },
    line("001_a.sql", "a\r\n") + line("002_b.sql", "b"),
  );
  try {
    assert.deepEqual(await checkFrozenMigrations(root), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("parseFrozenList() reads sha256sum's text and binary forms and names a bad line", () => {
  const hash = "a".repeat(64);
  assert.deepEqual(parseFrozenList(`${hash}  p/1.sql\n\n${hash} *p/2.sql\n`), [
    { sha256: hash, path: "p/1.sql" },
    { sha256: hash, path: "p/2.sql" },
  ]);
  assert.throws(() => parseFrozenList(`${hash}  p/1.sql\nnot a line\n`), {
    message: 'supabase/migrations.sha256 line 2 is not "<sha256>  <path>": "not a line"',
  });
});
