-- 016_enable_pg_net_and_setup_cron_auth.sql
--
-- What this adds, and why:
--   * the extensions pg_cron (scheduling) and pg_net (asynchronous HTTP from SQL). Hosted
--     Supabase lets `postgres` enable both; `if not exists` makes this a no-op where they are
--     already installed (the local stack installs them as the superuser before migrations).
--   * public.get_supabase_url() / public.get_service_role_key(): where cron jobs find the
--     project URL and the key they call Edge Functions with. Vault first, then the
--     `app.settings.*` database settings the original design used. No secret is ever written
--     into a migration, a cron command, a table or an error message.
--   * public.edge_function_invocations + public.invoke_edge_function(): the one place that
--     calls an Edge Function through pg_net and records the call (without the key), shared
--     by the cron jobs of 017 (scheduled ingest) and 020 (refresh).
--   * public.edge_function_runs: one row per call, joined with pg_net's response and, for
--     cron runs, pg_cron's run details, so "did last night's job work?" is one query.

-- ============================================================================
-- Extensions
-- ============================================================================

create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists pg_net with schema extensions;

-- ============================================================================
-- Configuration: project URL and service key
-- ============================================================================
--
-- Preferred: Supabase Vault (encrypted at rest, readable only by privileged roles):
--   select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');
--   select vault.create_secret('<service-role or sb_secret key>', 'service_role_key');
--
-- Fallback: the database settings app.settings.supabase_url / app.settings.service_role_key
-- that the original design set with `alter database postgres set app.settings.… = …`. On
-- hosted Supabase `postgres` is not a superuser, and since PostgreSQL 15 setting an unknown
-- (placeholder) parameter with ALTER DATABASE/ROLE requires a superuser, so hosted projects
-- answer "permission denied to set parameter": use Vault there. The fallback still serves
-- self-hosted databases where a superuser set them.
--
-- Both functions are SECURITY DEFINER (owned by postgres, who may read Vault) with an empty
-- search_path and qualified names; nobody but the owner may execute them. Error messages
-- name the missing secret and the command that sets it, never a value.

create or replace function public.get_supabase_url()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_url text;
begin
  select nullif(btrim(s.decrypted_secret), '')
    into v_url
    from vault.decrypted_secrets s
   where s.name = 'project_url'
   limit 1;

  if v_url is null then
    v_url := nullif(btrim(current_setting('app.settings.supabase_url', true)), '');
  end if;

  if v_url is null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = 'project_url is not configured: run select vault.create_secret(''https://<project-ref>.supabase.co'', ''project_url'');',
      hint = 'Self-hosted alternative (needs a superuser): alter database postgres set app.settings.supabase_url = ''…''. See docs/cron-jobs.md.';
  end if;

  -- The URL is not a secret, so it may be shown; it must be an http(s) origin.
  if v_url !~ '^https?://' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('project_url must start with https:// (or http:// locally): current value is %L', v_url),
      hint = 'Fix it with select vault.update_secret((select id from vault.decrypted_secrets where name = ''project_url''), ''https://<project-ref>.supabase.co'');';
  end if;

  -- 'https://x.supabase.co/' and 'https://x.supabase.co' must give the same function URLs.
  return rtrim(v_url, '/');
end;
$$;

comment on function public.get_supabase_url() is
  'Project URL for Edge Function calls: Vault secret project_url, else app.settings.supabase_url; trailing slash removed. Raises naming the missing secret.';

revoke execute on function public.get_supabase_url() from public, anon, authenticated, service_role;

create or replace function public.get_service_role_key()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
begin
  select nullif(btrim(s.decrypted_secret), '')
    into v_key
    from vault.decrypted_secrets s
   where s.name = 'service_role_key'
   limit 1;

  if v_key is null then
    v_key := nullif(btrim(current_setting('app.settings.service_role_key', true)), '');
  end if;

  if v_key is null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = 'service_role_key is not configured: run select vault.create_secret(''<service-role or sb_secret key>'', ''service_role_key'');',
      hint = 'Self-hosted alternative (needs a superuser): alter database postgres set app.settings.service_role_key = ''…''. See docs/cron-jobs.md.';
  end if;

  return v_key;
end;
$$;

comment on function public.get_service_role_key() is
  'Key Edge Functions are called with: Vault secret service_role_key, else app.settings.service_role_key. Executable by its owner only.';

revoke execute on function public.get_service_role_key() from public, anon, authenticated, service_role;

-- ============================================================================
-- Invocation log
-- ============================================================================
--
-- One row per HTTP call made by invoke_edge_function(). pg_net's response table does not
-- record the URL and is pruned after pg_net.ttl (6 h), so this is where the request id is
-- kept together with what was called, why and by whom. Never holds the key: headers are
-- not stored, and callers' bodies carry no secrets.

create table if not exists public.edge_function_invocations (
  id bigint generated always as identity,
  request_id bigint not null,
  run_id uuid not null,
  function_name text not null,
  job_name text,
  trigger text not null,
  body jsonb not null,
  timeout_ms integer not null,
  backend_pid integer not null,
  cron_jobid bigint,
  invoked_at timestamptz not null default now(),
  constraint edge_function_invocations_pkey primary key (id),
  constraint edge_function_invocations_request_id_key unique (request_id),
  constraint edge_function_invocations_run_id_key unique (run_id),
  constraint edge_function_invocations_trigger_check check (trigger in ('cron', 'manual')),
  constraint edge_function_invocations_timeout_ms_check check (timeout_ms > 0)
);

create index if not exists edge_function_invocations_invoked_at_idx
  on public.edge_function_invocations (invoked_at);

comment on table public.edge_function_invocations is
  'One row per Edge Function call made through pg_net by invoke_edge_function(); request_id joins net._http_response. No secrets.';
comment on column public.edge_function_invocations.backend_pid is
  'pg_backend_pid() of the caller: with cron_jobid it finds the cron.job_run_details row of a cron run.';
comment on column public.edge_function_invocations.cron_jobid is
  'cron.job.jobid of job_name when trigger = ''cron'' (null for manual runs or unknown job names).';

-- Internal: RLS on, no policies, no grants to the API roles. postgres (owner) and
-- service_role bypass RLS; service_role may read it for dashboards.
alter table public.edge_function_invocations enable row level security;
revoke all on table public.edge_function_invocations from public, anon, authenticated;
grant select on table public.edge_function_invocations to service_role;

-- ============================================================================
-- invoke_edge_function: the one way SQL calls an Edge Function
-- ============================================================================

create or replace function public.invoke_edge_function(
  function_name text,
  body jsonb,
  job_name text,
  trigger text,
  timeout_ms integer
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_run_id uuid := gen_random_uuid();
  v_body jsonb;
  v_url text;
  v_request_id bigint;
  v_jobid bigint;
begin
  -- The name becomes part of a URL path: only plain function names.
  if function_name is null or function_name !~ '^[a-z0-9][a-z0-9_-]*$' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('function_name must be an Edge Function name like scheduled-ingest: current value is %L', function_name);
  end if;
  if trigger is null or trigger not in ('cron', 'manual') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be ''manual'' or ''cron'': current value is %L', trigger);
  end if;
  if timeout_ms is null or timeout_ms < 1000 or timeout_ms > 900000 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('timeout_ms must be between 1000 and 900000: current value is %s', coalesce(timeout_ms::text, 'NULL'));
  end if;
  if body is not null and jsonb_typeof(body) <> 'object' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('body must be a JSON object: current value is %s', body);
  end if;

  -- Read configuration first: a missing secret raises before anything is queued.
  v_url := public.get_supabase_url() || '/functions/v1/' || function_name;
  v_body := coalesce(body, '{}'::jsonb)
    || jsonb_build_object('run_id', v_run_id, 'trigger', trigger, 'job_name', job_name);

  if trigger = 'cron' and job_name is not null then
    select j.jobid into v_jobid from cron.job j where j.jobname = invoke_edge_function.job_name;
  end if;

  -- pg_net queues the request; its worker sends it after this transaction commits.
  v_request_id := net.http_post(
    url => v_url,
    body => v_body,
    headers => jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || public.get_service_role_key()
    ),
    timeout_milliseconds => timeout_ms
  );

  insert into public.edge_function_invocations
    (request_id, run_id, function_name, job_name, trigger, body, timeout_ms, backend_pid, cron_jobid)
  values
    (v_request_id, v_run_id, invoke_edge_function.function_name, invoke_edge_function.job_name,
     invoke_edge_function.trigger, v_body, invoke_edge_function.timeout_ms, pg_backend_pid(), v_jobid);

  return v_request_id;
end;
$$;

comment on function public.invoke_edge_function(text, jsonb, text, text, integer) is
  'POSTs body + {run_id, trigger, job_name} to <project_url>/functions/v1/<function_name> via pg_net with the service key, records the call in edge_function_invocations (without the key) and returns the pg_net request id.';

revoke execute on function public.invoke_edge_function(text, jsonb, text, text, integer)
  from public, anon, authenticated, service_role;

-- ============================================================================
-- edge_function_runs: one row per call with its outcome
-- ============================================================================

-- Parses text as jsonb, or null when it is not JSON (PostgreSQL 15 has no IS JSON).
create or replace function public.jsonb_or_null(p_text text)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_text is null or left(ltrim(p_text), 1) not in ('{', '[') then
    return null;
  end if;
  return p_text::jsonb;
exception
  when invalid_text_representation then
    return null;
end;
$$;

comment on function public.jsonb_or_null(text) is
  'p_text parsed as jsonb when it is a JSON object or array, else null (never raises).';

revoke execute on function public.jsonb_or_null(text) from public, anon, authenticated;
grant execute on function public.jsonb_or_null(text) to service_role;

-- state: 'queued' (no response recorded: not sent yet, in flight, or the response was
-- already pruned after pg_net.ttl), 'done' (2xx), 'http_error' (any other status),
-- 'timed_out', 'error' (no HTTP status: connection refused, DNS, …).
-- A cron run is matched to its cron.job_run_details row by job id, backend pid and time:
-- pg_cron records the pid of the session that runs the command before sending it.
create or replace view public.edge_function_runs
with (security_invoker = true)
as
select
  i.invoked_at,
  i.function_name,
  i.job_name,
  i.trigger,
  i.run_id,
  i.request_id,
  case
    when r.id is null then 'queued'
    when r.timed_out then 'timed_out'
    when r.status_code is null then 'error'
    when r.status_code between 200 and 299 then 'done'
    else 'http_error'
  end as state,
  r.status_code,
  r.timed_out,
  r.error_msg,
  public.jsonb_or_null(r.content) as response,
  left(r.content, 2000) as response_text,
  d.status as cron_status,
  d.return_message as cron_return_message,
  r.created as responded_at
from public.edge_function_invocations i
left join net._http_response r on r.id = i.request_id
left join lateral (
  select jrd.status, jrd.return_message
    from cron.job_run_details jrd
   where i.cron_jobid is not null
     and jrd.jobid = i.cron_jobid
     and jrd.job_pid = i.backend_pid
     and i.invoked_at between jrd.start_time and coalesce(jrd.end_time, now())
   order by jrd.start_time desc
   limit 1
) d on true;

comment on view public.edge_function_runs is
  'One row per Edge Function call from SQL: state queued|done|http_error|timed_out|error, the parsed JSON response and, for cron runs, pg_cron''s status. For the database owner (SQL editor); no API access.';

revoke all on table public.edge_function_runs from public, anon, authenticated, service_role;
