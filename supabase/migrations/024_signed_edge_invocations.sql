-- 024_signed_edge_invocations.sql
--
-- What this changes, and why:
--   * On hosted Supabase every database role may read pg_net's queue: pg_net grants its
--     schema and tables to PUBLIC and `postgres` cannot revoke that. invoke_edge_function()
--     (016) queued `Authorization: Bearer <service-role key>` there, readable by anon until
--     pg_net sent the request; that key opens the whole database.
--   * Cron calls now carry no key. invoke_edge_function() signs each request instead:
--       x-tmdb-sync-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<function>.<body>")>
--     keyed with a dedicated invocation secret (Vault secret edge_invoke_secret; the functions'
--     EDGE_INVOKE_SECRET, plus EDGE_INVOKE_SECRET_PREVIOUS while rotating). The secret opens
--     nothing but our functions, and is never queued itself; a signature is good for one body,
--     one function and 10 minutes (checked by
--     supabase/functions/_shared/http/invocation_signature.ts). <body> is the exact text pg_net sends: the jsonb body's text, as UTF-8.
--   * public.get_edge_invoke_secret(): reads the secret from Vault; a missing or short secret
--     raises an error naming both places it must be set.
--   * public.edge_invocation_signature(): the header value for one call.
--   * get_service_role_key() keeps its signature (users call it by name) but nothing calls it
--     any more: the Vault secret service_role_key can be deleted (docs/deploy.md).
--   * A call may also be recorded with trigger 'continuation': a refresh-worker run that
--     stopped for its budget starting the next one (026).

-- ============================================================================
-- Extensions
-- ============================================================================

-- hmac(). Hosted Supabase has pgcrypto in `extensions` already; `if not exists` makes this a
-- no-op there and on the local stack.
create extension if not exists pgcrypto with schema extensions;

-- ============================================================================
-- The invocation secret
-- ============================================================================

-- SECURITY DEFINER (owned by postgres, who may read Vault) with an empty search_path;
-- executable by its owner only. Errors never show the value.
create or replace function public.get_edge_invoke_secret()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  c_how constant text := 'set one secret in both places: select vault.create_secret(''<secret>'', ''edge_invoke_secret''); '
    || '(or vault.update_secret(id, ''<secret>'') if it exists) and supabase secrets set EDGE_INVOKE_SECRET=<secret> '
    || '(locally: supabase/functions/.env)';
  v_secret text;
begin
  select nullif(btrim(s.decrypted_secret), '')
    into v_secret
    from vault.decrypted_secrets s
   where s.name = 'edge_invoke_secret'
   limit 1;

  if v_secret is null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = 'edge_invoke_secret is not configured: ' || c_how,
      hint = 'Generate the secret with: openssl rand -hex 32. See docs/deploy.md.';
  end if;
  if length(v_secret) < 32 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('edge_invoke_secret is too short (%s characters, at least 32): ', length(v_secret)) || c_how,
      hint = 'Generate the secret with: openssl rand -hex 32. See docs/deploy.md.';
  end if;

  return v_secret;
end;
$$;

comment on function public.get_edge_invoke_secret() is
  'The secret cron calls to the Edge Functions are signed with: Vault secret edge_invoke_secret (at least 32 characters). Raises naming both places to set it. Executable by its owner only.';

revoke execute on function public.get_edge_invoke_secret() from public, anon, authenticated, service_role;

-- The x-tmdb-sync-signature header value for sending `body` (the exact text of the request
-- body) to `function_name`, signed at `signed_at` (unix seconds).
create or replace function public.edge_invocation_signature(
  function_name text,
  body text,
  signed_at bigint
)
returns text
language sql
stable
security invoker
set search_path = ''
as $$
  select format('t=%s,v1=%s', signed_at, encode(
    extensions.hmac(
      convert_to(signed_at::text || '.' || function_name || '.' || body, 'UTF8'),
      convert_to(public.get_edge_invoke_secret(), 'UTF8'),
      'sha256'),
    'hex'))
$$;

comment on function public.edge_invocation_signature(text, text, bigint) is
  'x-tmdb-sync-signature header value: t=<signed_at>,v1=<hex HMAC-SHA256(edge_invoke_secret, "<signed_at>.<function_name>.<body>")>.';

revoke execute on function public.edge_invocation_signature(text, text, bigint)
  from public, anon, authenticated, service_role;

comment on function public.get_service_role_key() is
  'The service key in Vault (service_role_key), else app.settings.service_role_key, for operators. Cron calls do not use it: they are signed with edge_invoke_secret. Executable by its owner only.';

-- ============================================================================
-- invoke_edge_function: signed, no key on the wire
-- ============================================================================

alter table public.edge_function_invocations
  drop constraint if exists edge_function_invocations_trigger_check;
alter table public.edge_function_invocations
  add constraint edge_function_invocations_trigger_check
  check (trigger in ('cron', 'manual', 'continuation'));

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
  -- The triggers a call may record (edge_function_invocations_trigger_check allows the same).
  c_triggers constant text[] := array['cron', 'manual', 'continuation'];
  v_run_id uuid := gen_random_uuid();
  v_body jsonb;
  v_url text;
  v_signature text;
  v_request_id bigint;
  v_jobid bigint;
begin
  -- The name becomes part of a URL path: only plain function names.
  if function_name is null or function_name !~ '^[a-z0-9][a-z0-9_-]*$' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('function_name must be an Edge Function name like scheduled-ingest: current value is %L', function_name);
  end if;
  if trigger is null or not (trigger = any (c_triggers)) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be one of %s: current value is %L',
                       (select string_agg(quote_literal(t), ', ') from unnest(c_triggers) t), trigger);
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
  -- pg_net sends convert_to(body::text, 'UTF8'): sign that same text.
  v_signature := public.edge_invocation_signature(
    function_name, v_body::text, floor(extract(epoch from clock_timestamp()))::bigint);

  if trigger = 'cron' and job_name is not null then
    select j.jobid into v_jobid from cron.job j where j.jobname = invoke_edge_function.job_name;
  end if;

  -- pg_net queues the request; its worker sends it after this transaction commits. Every
  -- role may read the queue: it holds the body and the signature, no key.
  v_request_id := net.http_post(
    url => v_url,
    body => v_body,
    headers => jsonb_build_object(
      'Content-Type', 'application/json',
      'x-tmdb-sync-signature', v_signature
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
  'POSTs body + {run_id, trigger, job_name} to <project_url>/functions/v1/<function_name> via pg_net, signed with edge_invoke_secret (x-tmdb-sync-signature, no key), records the call in edge_function_invocations and returns the pg_net request id.';

revoke execute on function public.invoke_edge_function(text, jsonb, text, text, integer)
  from public, anon, authenticated, service_role;
