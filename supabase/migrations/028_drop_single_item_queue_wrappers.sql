-- 028_drop_single_item_queue_wrappers.sql
--
-- What this removes, and why: public.complete_refresh() and public.fail_refresh() (018)
-- finish one queue row each by wrapping public.finish_refresh_batch(). No function calls
-- them any more (refresh-worker finishes whole batches through public.refresh_worker_step,
-- 025), and a second way to finish a row is one more surface to keep consistent with the
-- first. The lease, attempt and backoff rules they exposed are those of
-- finish_refresh_batch(), which pgTAP tests directly.

drop function if exists public.complete_refresh(bigint, text, integer, text);
drop function if exists public.fail_refresh(bigint, text, integer, text, boolean);
