-- 002_catalog.sql
--
-- Adds the movie catalog: `public.works` (one row per TMDB movie) and its child tables
-- (genres, people, cast, key crew, videos, release dates), each with RLS, a public read
-- policy and explicit grants, because hosted Supabase no longer grants new tables to the
-- API roles. Rows are written only by `public.ingest_movie` / `public.mark_movie_not_found`
-- (004) running as service_role; anon and authenticated can only read.
--
-- Shape decisions (see docs/schema.md):
--   * TMDB ids are kept as TMDB's own keys where TMDB owns the entity (genres.id, people.id,
--     work_videos.video_id, credit_id); a movie gets our own `works.id` plus a unique
--     `tmdb_id`, so other tables can reference a stable local id.
--   * Image columns hold TMDB `file_path`s ("/abc.jpg"), never URLs: the base URL and size
--     come from /configuration at render time.
--   * Small lists that are only ever read with the movie (spoken languages, production
--     companies/countries, keywords) are jsonb arrays on the work, as TMDB sends them.
--   * `next_refresh_at` is a STORED generated column over the policy of 001, so it always
--     agrees with the policy and can be indexed for "what is due" scans.

-- ---------------------------------------------------------------------------------------
-- works
-- ---------------------------------------------------------------------------------------

create table public.works (
  id bigint generated always as identity,
  tmdb_id integer not null,
  title text not null,
  original_title text,
  original_language text,
  overview text,
  tagline text,
  -- TMDB sends "" for an unknown date; stored as null.
  release_date date,
  runtime integer,
  -- TMDB's status text: Rumored, Planned, In Production, Post Production, Released, Canceled.
  status text,
  adult boolean not null default false,
  video boolean not null default false,
  poster_path text,
  backdrop_path text,
  popularity numeric,
  vote_average numeric,
  vote_count integer,
  -- US dollars; bigint because revenues pass 2^31.
  budget bigint,
  revenue bigint,
  homepage text,
  imdb_id text,
  wikidata_id text,
  facebook_id text,
  instagram_id text,
  twitter_id text,
  collection_id integer,
  collection_name text,
  origin_country text[] not null default '{}',
  -- [{english_name, iso_639_1, name}]
  spoken_languages jsonb not null default '[]',
  -- [{id, logo_path, name, origin_country}]
  production_companies jsonb not null default '[]',
  -- [{iso_3166_1, name}]
  production_countries jsonb not null default '[]',
  -- [{id, name}] from append_to_response=keywords
  keywords jsonb not null default '[]',
  -- sha256 (hex) of the ingested payload's canonical jsonb text: equal hash = nothing to write.
  payload_hash text not null,
  -- Set when TMDB answered 404 for this movie (first time seen missing); cleared when it is
  -- ingested again.
  tmdb_missing_at timestamptz,
  -- ingest_movie() sets it to the first ingest's refreshed_at.
  first_ingested_at timestamptz not null default now(),
  -- Time of the last TMDB answer for this movie (200, even if unchanged, or 404).
  last_refreshed_at timestamptz,
  next_refresh_at timestamptz not null generated always as (
    public.compute_next_refresh_at(status, release_date, last_refreshed_at, tmdb_missing_at)
  ) stored,
  created_at timestamptz not null default now(),
  -- When the catalog data of the row last changed (not touched by an unchanged refresh).
  updated_at timestamptz not null default now(),
  constraint works_pkey primary key (id),
  constraint works_tmdb_id_key unique (tmdb_id),
  constraint works_tmdb_id_positive check (tmdb_id > 0),
  constraint works_payload_hash_format check (payload_hash ~ '^[0-9a-f]{64}$'),
  constraint works_collection_complete check ((collection_id is null) = (collection_name is null)),
  constraint works_spoken_languages_array check (jsonb_typeof(spoken_languages) = 'array'),
  constraint works_production_companies_array check (jsonb_typeof(production_companies) = 'array'),
  constraint works_production_countries_array check (jsonb_typeof(production_countries) = 'array'),
  constraint works_keywords_array check (jsonb_typeof(keywords) = 'array')
);

comment on table public.works is
  'One row per TMDB movie, written by public.ingest_movie(). Image columns are TMDB file_paths.';
comment on column public.works.next_refresh_at is
  'Generated from public.compute_next_refresh_at(): when this movie is due for a TMDB refresh.';

-- "What is due" scans: where next_refresh_at <= now() order by next_refresh_at.
create index works_next_refresh_at_idx on public.works (next_refresh_at);
create index works_release_date_idx on public.works (release_date);

alter table public.works enable row level security;

create policy works_select_all on public.works
  for select to anon, authenticated using (true);

revoke all on table public.works from public, anon, authenticated;
grant select on table public.works to anon, authenticated;
grant all on table public.works to service_role;

-- ---------------------------------------------------------------------------------------
-- genres and work_genres
-- ---------------------------------------------------------------------------------------

create table public.genres (
  -- TMDB genre id.
  id integer not null,
  name text not null,
  constraint genres_pkey primary key (id)
);

comment on table public.genres is 'TMDB movie genres, keyed by TMDB genre id.';

create table public.work_genres (
  work_id bigint not null,
  genre_id integer not null,
  -- Order in TMDB's list (0 = first): TMDB lists the main genre first.
  position smallint not null default 0,
  constraint work_genres_pkey primary key (work_id, genre_id),
  constraint work_genres_work_id_fkey foreign key (work_id)
    references public.works (id) on delete cascade,
  constraint work_genres_genre_id_fkey foreign key (genre_id)
    references public.genres (id) on delete cascade
);

comment on table public.work_genres is 'Genres of each work (work_id is covered by the primary key).';

create index work_genres_genre_id_idx on public.work_genres (genre_id);

alter table public.genres enable row level security;
alter table public.work_genres enable row level security;

create policy genres_select_all on public.genres
  for select to anon, authenticated using (true);
create policy work_genres_select_all on public.work_genres
  for select to anon, authenticated using (true);

revoke all on table public.genres, public.work_genres from public, anon, authenticated;
grant select on table public.genres, public.work_genres to anon, authenticated;
grant all on table public.genres, public.work_genres to service_role;

-- ---------------------------------------------------------------------------------------
-- people
-- ---------------------------------------------------------------------------------------

create table public.people (
  -- TMDB person id: one row per person, shared by every movie they appear in.
  id integer not null,
  name text not null,
  original_name text,
  -- TMDB: 0 not set, 1 female, 2 male, 3 non-binary.
  gender smallint,
  known_for_department text,
  profile_path text,
  popularity numeric,
  adult boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint people_pkey primary key (id)
);

comment on table public.people is
  'People in cast or key crew, keyed by TMDB person id (deduplicated across movies).';

alter table public.people enable row level security;

create policy people_select_all on public.people
  for select to anon, authenticated using (true);

revoke all on table public.people from public, anon, authenticated;
grant select on table public.people to anon, authenticated;
grant all on table public.people to service_role;

-- ---------------------------------------------------------------------------------------
-- work_cast and work_crew
-- ---------------------------------------------------------------------------------------

create table public.work_cast (
  work_id bigint not null,
  -- TMDB credit id: identifies one credit of one person in one movie.
  credit_id text not null,
  person_id integer not null,
  character text,
  cast_order integer not null,
  constraint work_cast_pkey primary key (work_id, credit_id),
  constraint work_cast_work_id_fkey foreign key (work_id)
    references public.works (id) on delete cascade,
  constraint work_cast_person_id_fkey foreign key (person_id)
    references public.people (id) on delete cascade
);

comment on table public.work_cast is 'Cast of each work, in TMDB billing order (cast_order).';

create index work_cast_person_id_idx on public.work_cast (person_id);
create index work_cast_work_id_cast_order_idx on public.work_cast (work_id, cast_order);

create table public.work_crew (
  work_id bigint not null,
  credit_id text not null,
  person_id integer not null,
  department text not null,
  job text not null,
  constraint work_crew_pkey primary key (work_id, credit_id),
  constraint work_crew_work_id_fkey foreign key (work_id)
    references public.works (id) on delete cascade,
  constraint work_crew_person_id_fkey foreign key (person_id)
    references public.people (id) on delete cascade
);

comment on table public.work_crew is
  'Key crew only: departments Directing and Writing, and jobs Producer, Executive Producer, '
  'Original Music Composer, Director of Photography, Editor, Casting.';

create index work_crew_person_id_idx on public.work_crew (person_id);

alter table public.work_cast enable row level security;
alter table public.work_crew enable row level security;

create policy work_cast_select_all on public.work_cast
  for select to anon, authenticated using (true);
create policy work_crew_select_all on public.work_crew
  for select to anon, authenticated using (true);

revoke all on table public.work_cast, public.work_crew from public, anon, authenticated;
grant select on table public.work_cast, public.work_crew to anon, authenticated;
grant all on table public.work_cast, public.work_crew to service_role;

-- ---------------------------------------------------------------------------------------
-- work_videos
-- ---------------------------------------------------------------------------------------

create table public.work_videos (
  work_id bigint not null,
  -- TMDB video id (a hex string).
  video_id text not null,
  -- Where the video lives (YouTube, Vimeo) and its id there.
  site text not null,
  key text not null,
  name text,
  -- Trailer, Teaser, Clip, Featurette, Behind the Scenes, Bloopers.
  type text,
  official boolean not null default false,
  size integer,
  iso_639_1 text,
  iso_3166_1 text,
  published_at timestamptz,
  constraint work_videos_pkey primary key (work_id, video_id),
  constraint work_videos_work_id_fkey foreign key (work_id)
    references public.works (id) on delete cascade
);

comment on table public.work_videos is
  'Videos of each work (trailers, teasers…): site + key locate the video.';

alter table public.work_videos enable row level security;

create policy work_videos_select_all on public.work_videos
  for select to anon, authenticated using (true);

revoke all on table public.work_videos from public, anon, authenticated;
grant select on table public.work_videos to anon, authenticated;
grant all on table public.work_videos to service_role;

-- ---------------------------------------------------------------------------------------
-- work_release_dates
-- ---------------------------------------------------------------------------------------

create table public.work_release_dates (
  id bigint generated always as identity,
  work_id bigint not null,
  -- Country (ISO 3166-1 alpha-2) the release is for.
  iso_3166_1 text not null,
  -- 1 premiere, 2 theatrical (limited), 3 theatrical, 4 digital, 5 physical, 6 TV.
  release_type smallint not null,
  release_date timestamptz,
  certification text not null default '',
  descriptors text[] not null default '{}',
  -- Language (ISO 639-1) of the release, often "".
  iso_639_1 text not null default '',
  note text not null default '',
  constraint work_release_dates_pkey primary key (id),
  -- TMDB has no id for a release; this is the natural key the ingest upserts on (two
  -- releases of one type in one country on one date differ only by their note).
  constraint work_release_dates_release_key
    unique nulls not distinct (work_id, iso_3166_1, release_type, release_date, note),
  constraint work_release_dates_release_type_range check (release_type between 1 and 6),
  constraint work_release_dates_work_id_fkey foreign key (work_id)
    references public.works (id) on delete cascade
);

comment on table public.work_release_dates is
  'Release dates of each work by country and type (TMDB append_to_response=release_dates).';

alter table public.work_release_dates enable row level security;

create policy work_release_dates_select_all on public.work_release_dates
  for select to anon, authenticated using (true);

revoke all on table public.work_release_dates from public, anon, authenticated;
grant select on table public.work_release_dates to anon, authenticated;
grant all on table public.work_release_dates to service_role;
