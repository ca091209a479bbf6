-- 003_ingestion_logs.sql
--
-- Adds the two operational logs:
--   * public.tmdb_api_logs: one row per outgoing TMDB HTTP attempt, inserted in batches by
--     the TypeScript client (supabase/functions/_shared/tmdb/api_log.ts writes exactly these
--     column names). It must never hold a secret: a check rejects `params` with `api_key`.
--   * public.scheduled_ingestion_log: one row per ingestion run (scheduled or manual), with
--     its counters and outcome, keyed by the run's uuid.
-- Both are internal: RLS is enabled with no policy and nothing is granted to anon or
-- authenticated; only service_role (the edge functions) reads and writes them.
-- Pruning old rows is left to a later migration (neither table is pruned by itself).

-- ---------------------------------------------------------------------------------------
-- tmdb_api_logs
-- ---------------------------------------------------------------------------------------

create table public.tmdb_api_logs (
  id bigint generated always as identity,
  created_at timestamptz not null default now(),
  function_name text not null,
  run_id uuid,
  method text not null default 'GET',
  -- Path template, e.g. /movie/{id}, /movie/popular, /trending/movie/day.
  endpoint text not null,
  -- Non-secret query parameters, e.g. {"page": "2"}.
  params jsonb not null default '{}',
  -- null when no response arrived (network error, timeout).
  http_status integer,
  -- TMDB's status_code from an error body (7 invalid key, 25 rate limit, 34 not found).
  tmdb_status_code integer,
  duration_ms integer not null,
  attempt integer not null default 1,
  error text,
  tmdb_id integer,
  constraint tmdb_api_logs_pkey primary key (id),
  constraint tmdb_api_logs_params_object check (jsonb_typeof(params) = 'object'),
  -- The API key must never be stored: TMDB is called with a bearer token, and a logged
  -- api_key would leak the secret to everyone who can read logs.
  constraint tmdb_api_logs_params_no_api_key check (not (params ? 'api_key')),
  constraint tmdb_api_logs_duration_ms_nonnegative check (duration_ms >= 0),
  constraint tmdb_api_logs_attempt_positive check (attempt >= 1)
);

comment on table public.tmdb_api_logs is
  'One row per TMDB HTTP attempt (written in batches by _shared/api_log.ts). Never holds a secret.';

create index tmdb_api_logs_created_at_idx on public.tmdb_api_logs (created_at);
create index tmdb_api_logs_run_id_idx on public.tmdb_api_logs (run_id);

alter table public.tmdb_api_logs enable row level security;

-- No policy on purpose: anon and authenticated get nothing; service_role bypasses RLS.
revoke all on table public.tmdb_api_logs from public, anon, authenticated;
grant all on table public.tmdb_api_logs to service_role;

-- ---------------------------------------------------------------------------------------
-- scheduled_ingestion_log
-- ---------------------------------------------------------------------------------------

create table public.scheduled_ingestion_log (
  id bigint generated always as identity,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  run_id uuid not null,
  -- What was ingested, e.g. now_playing, popular, trending_week, mixed_daily, changes.
  source text not null,
  -- What started the run, e.g. manual, cron.
  trigger text not null default 'manual',
  requested integer not null default 0,
  found integer not null default 0,
  ingested integer not null default 0,
  unchanged integer not null default 0,
  failed integer not null default 0,
  skipped_fresh integer not null default 0,
  duration_ms integer,
  status text not null default 'running',
  error text,
  details jsonb not null default '{}',
  constraint scheduled_ingestion_log_pkey primary key (id),
  constraint scheduled_ingestion_log_run_id_key unique (run_id),
  constraint scheduled_ingestion_log_status_check
    check (status in ('running', 'succeeded', 'partial', 'failed')),
  constraint scheduled_ingestion_log_counts_nonnegative check (
    requested >= 0 and found >= 0 and ingested >= 0 and unchanged >= 0 and failed >= 0
    and skipped_fresh >= 0
  ),
  constraint scheduled_ingestion_log_duration_ms_nonnegative check (duration_ms >= 0),
  constraint scheduled_ingestion_log_details_object check (jsonb_typeof(details) = 'object')
);

comment on table public.scheduled_ingestion_log is
  'One row per ingestion run: counters and outcome (status running → succeeded/partial/failed).';

create index scheduled_ingestion_log_created_at_idx on public.scheduled_ingestion_log (created_at);

alter table public.scheduled_ingestion_log enable row level security;

-- No policy on purpose: anon and authenticated get nothing; service_role bypasses RLS.
revoke all on table public.scheduled_ingestion_log from public, anon, authenticated;
grant all on table public.scheduled_ingestion_log to service_role;
