import assert from "node:assert/strict";
import { configuration, genreList } from "./configuration.ts";

Deno.test("configuration and genre list have TMDB's shapes; callers get their own copies", () => {
  // deno-lint-ignore no-explicit-any
  const config = configuration() as any;
  assert.equal(config.images.secure_base_url, "https://image.tmdb.org/t/p/");
  assert.ok(config.images.poster_sizes.includes("w500"));
  assert.ok(config.change_keys.includes("videos"));
  const genres = genreList().genres;
  assert.equal(genres.length, 19);
  assert.deepEqual(genres.find((g) => g.id === 878), { id: 878, name: "Science Fiction" });
  genres[0].name = "changed";
  assert.notEqual(genreList().genres[0].name, "changed");
});
