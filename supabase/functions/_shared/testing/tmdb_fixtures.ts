/**
 * Realistic TMDB response bodies for tests (shapes copied from api.themoviedb.org/3, trimmed
 * to a few list entries). Each function returns a fresh object, so tests may mutate it.
 *
 * @module
 */

/** `/movie/550?append_to_response=credits,videos,release_dates,external_ids,keywords`. */
export function movieDetailsFixture(id = 550): Record<string, unknown> {
  return {
    adult: false,
    backdrop_path: "/hZkgoQYus5vegHoetLkCJzb17zJ.jpg",
    belongs_to_collection: null,
    budget: 63000000,
    genres: [{ id: 18, name: "Drama" }],
    homepage: "http://www.foxmovies.com/movies/fight-club",
    id,
    imdb_id: "tt0137523",
    origin_country: ["US"],
    original_language: "en",
    original_title: "Fight Club",
    overview: "A ticking-time-bomb insomniac and a slippery soap salesman channel primal male " +
      "aggression into a shocking new form of therapy.",
    popularity: 73.433,
    poster_path: "/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg",
    production_companies: [
      {
        id: 508,
        logo_path: "/7cxRWzi4LsVm4Utfpr1hfARNurT.png",
        name: "Regency Enterprises",
        origin_country: "US",
      },
      { id: 711, logo_path: null, name: "Fox 2000 Pictures", origin_country: "US" },
    ],
    production_countries: [{ iso_3166_1: "US", name: "United States of America" }],
    release_date: "1999-10-15",
    revenue: 100853753,
    runtime: 139,
    spoken_languages: [{ english_name: "English", iso_639_1: "en", name: "English" }],
    status: "Released",
    tagline: "Mischief. Mayhem. Soap.",
    title: "Fight Club",
    video: false,
    vote_average: 8.438,
    vote_count: 29923,
    credits: {
      cast: [
        {
          adult: false,
          gender: 2,
          id: 819,
          known_for_department: "Acting",
          name: "Edward Norton",
          original_name: "Edward Norton",
          popularity: 26.99,
          profile_path: "/8nytsqL59SFJTVYVrN72k6qkGgJ.jpg",
          cast_id: 4,
          character: "Narrator",
          credit_id: "52fe4250c3a36847f80149f3",
          order: 0,
        },
        {
          adult: false,
          gender: 0,
          id: 1635154,
          known_for_department: "Acting",
          name: "Bob Stephenson",
          original_name: "Bob Stephenson",
          popularity: 0.6,
          profile_path: null,
          cast_id: 70,
          character: "Airport Security Officer",
          credit_id: "5b4bf8b3c3a36817b500d1d0",
          order: 30,
        },
      ],
      crew: [
        {
          adult: false,
          gender: 2,
          id: 7467,
          known_for_department: "Directing",
          name: "David Fincher",
          original_name: "David Fincher",
          popularity: 21.3,
          profile_path: "/tpEczFclQZeKAiCeKZZ0adRvtfz.jpg",
          credit_id: "52fe4250c3a36847f8014a11",
          department: "Directing",
          job: "Director",
        },
      ],
    },
    videos: {
      results: [
        {
          iso_639_1: "en",
          iso_3166_1: "US",
          name: "Fight Club (1999) Trailer",
          key: "O1nDozs-LxI",
          site: "YouTube",
          size: 1080,
          type: "Trailer",
          official: true,
          published_at: "2023-07-03T15:17:52.000Z",
          id: "64a3284b8c44b9011c4d3c4e",
        },
      ],
    },
    release_dates: {
      results: [
        {
          iso_3166_1: "US",
          release_dates: [
            {
              certification: "R",
              descriptors: [],
              iso_639_1: "",
              note: "",
              release_date: "1999-10-15T00:00:00.000Z",
              type: 3,
            },
          ],
        },
        {
          iso_3166_1: "DE",
          release_dates: [
            {
              certification: "18",
              iso_639_1: "",
              note: "",
              release_date: "1999-11-11T00:00:00.000Z",
              type: 3,
            },
          ],
        },
      ],
    },
    external_ids: {
      imdb_id: "tt0137523",
      wikidata_id: "Q190050",
      facebook_id: "FightClub",
      instagram_id: null,
      twitter_id: null,
    },
    keywords: {
      keywords: [
        { id: 825, name: "support group" },
        { id: 851, name: "dual identity" },
      ],
    },
  };
}

/** A page of `/movie/now_playing` (includes `dates`). */
export function moviePageFixture(page = 1): Record<string, unknown> {
  return {
    dates: { maximum: "2026-11-04", minimum: "2026-09-23" },
    page,
    results: [
      {
        adult: false,
        backdrop_path: "/xg27NrXi7VXCGUr7MG75UqLl6Vg.jpg",
        genre_ids: [16, 12, 10751, 35],
        id: 1022789,
        original_language: "en",
        original_title: "Inside Out 2",
        overview: "Teenager Riley's mind headquarters is undergoing a sudden demolition.",
        popularity: 4545.87,
        poster_path: "/vpnVM9B6NMmQpWeZvzLvDESb2QY.jpg",
        release_date: "2024-06-11",
        title: "Inside Out 2",
        video: false,
        vote_average: 7.7,
        vote_count: 1862,
      },
      {
        adult: false,
        backdrop_path: null,
        genre_ids: [],
        id: 1200001,
        original_language: "fr",
        original_title: "Sans date",
        overview: "",
        popularity: 0.6,
        poster_path: null,
        release_date: "",
        title: "Sans date",
        video: false,
        vote_average: 0,
        vote_count: 0,
      },
    ],
    total_pages: 214,
    total_results: 4271,
  };
}

/** A page of `/movie/changes`. */
export function changesPageFixture(page = 1): Record<string, unknown> {
  return {
    results: [
      { id: 550, adult: false },
      { id: 1190012, adult: null },
      { id: 1190013 },
    ],
    page,
    total_pages: 3,
    total_results: 203,
  };
}

/** TMDB's error body for `status_code`. */
export function tmdbErrorFixture(statusCode: number, statusMessage: string) {
  return { success: false, status_code: statusCode, status_message: statusMessage };
}
