/**
 * TMDB's own limits, in one place: the client refuses a request beyond them, and the
 * functions stop their walks at them.
 *
 * @module
 */

/** Pages 1–500 of a list or of the change feed (status_code 22 beyond). */
export const MAX_PAGE = 500;

/** `/movie/changes`: `end_date − start_date` of at most 14 days (status_code 20 beyond). */
export const MAX_CHANGES_DAYS = 14;

/** `append_to_response`: at most 20 parts (status_code 27 beyond). */
export const MAX_APPEND_PARTS = 20;
