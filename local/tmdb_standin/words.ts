/**
 * Static vocabulary for the synthetic TMDB catalog: TMDB's real movie genres, languages,
 * countries, certifications, crew jobs, and word lists for titles and names (including
 * Japanese, Korean, Chinese, Hindi, Cyrillic and Arabic scripts).
 */

/** TMDB's movie genres (ids and English names as served by `/genre/movie/list`). */
export const GENRES: readonly { id: number; name: string }[] = [
  { id: 28, name: "Action" },
  { id: 12, name: "Adventure" },
  { id: 16, name: "Animation" },
  { id: 35, name: "Comedy" },
  { id: 80, name: "Crime" },
  { id: 99, name: "Documentary" },
  { id: 18, name: "Drama" },
  { id: 10751, name: "Family" },
  { id: 14, name: "Fantasy" },
  { id: 36, name: "History" },
  { id: 27, name: "Horror" },
  { id: 10402, name: "Music" },
  { id: 9648, name: "Mystery" },
  { id: 10749, name: "Romance" },
  { id: 878, name: "Science Fiction" },
  { id: 10770, name: "TV Movie" },
  { id: 53, name: "Thriller" },
  { id: 10752, name: "War" },
  { id: 37, name: "Western" },
];

/** A language the catalog uses: ISO 639-1, English and native names, a typical country. */
export interface Language {
  /** ISO 639-1 code. */
  iso: string;
  /** English name as TMDB's `spoken_languages[].english_name`. */
  english: string;
  /** Native name as TMDB's `spoken_languages[].name`. */
  native: string;
  /** ISO 3166-1 country usually associated with it. */
  country: string;
  /** Relative weight when drawing an original language. */
  weight: number;
}

/** Languages with their weights as original languages. */
export const LANGUAGES: readonly Language[] = [
  { iso: "en", english: "English", native: "English", country: "US", weight: 58 },
  { iso: "fr", english: "French", native: "Français", country: "FR", weight: 5 },
  { iso: "es", english: "Spanish", native: "Español", country: "ES", weight: 5 },
  { iso: "ja", english: "Japanese", native: "日本語", country: "JP", weight: 7 },
  { iso: "ko", english: "Korean", native: "한국어/조선말", country: "KR", weight: 4 },
  { iso: "ru", english: "Russian", native: "Pусский", country: "RU", weight: 4 },
  { iso: "ar", english: "Arabic", native: "العربية", country: "EG", weight: 2 },
  { iso: "zh", english: "Mandarin", native: "普通话", country: "CN", weight: 4 },
  { iso: "hi", english: "Hindi", native: "हिन्दी", country: "IN", weight: 3 },
  { iso: "de", english: "German", native: "Deutsch", country: "DE", weight: 4 },
  { iso: "it", english: "Italian", native: "Italiano", country: "IT", weight: 4 },
];

/** Country names as TMDB's `production_countries[].name`. */
export const COUNTRY_NAMES: Readonly<Record<string, string>> = {
  US: "United States of America",
  GB: "United Kingdom",
  FR: "France",
  ES: "Spain",
  JP: "Japan",
  KR: "South Korea",
  RU: "Russia",
  EG: "Egypt",
  CN: "China",
  IN: "India",
  DE: "Germany",
  IT: "Italy",
  CA: "Canada",
  AU: "Australia",
  BR: "Brazil",
  MX: "Mexico",
  NL: "Netherlands",
  SE: "Sweden",
};

/** Countries that get extra release dates. */
export const RELEASE_COUNTRIES = ["GB", "DE", "FR", "JP", "KR", "BR", "CA", "AU", "ES", "IT", "NL"];

/** Certifications per country (as in TMDB's `/certification/movie/list`). */
export const CERTIFICATIONS: Readonly<Record<string, readonly string[]>> = {
  US: ["G", "PG", "PG-13", "R", "NC-17", ""],
  GB: ["U", "PG", "12A", "15", "18"],
  DE: ["0", "6", "12", "16", "18"],
  FR: ["U", "12", "16", "18"],
  JP: ["G", "PG12", "R15+", "R18+"],
  KR: ["All", "12", "15", "18"],
  BR: ["L", "10", "12", "14", "16", "18"],
  CA: ["G", "PG", "14A", "18A", "R"],
  AU: ["G", "PG", "M", "MA15+", "R18+"],
  ES: ["A", "7", "12", "16", "18"],
  IT: ["T", "VM14", "VM18"],
  NL: ["AL", "6", "9", "12", "16"],
};

/** Release notes that TMDB puts on some release dates. */
export const RELEASE_NOTES = [
  "",
  "",
  "",
  "",
  "Venice Film Festival",
  "Toronto International Film Festival",
  "Cannes Film Festival",
  "Sundance Film Festival",
  "Berlin International Film Festival",
  "IMAX",
  "Netflix",
  "Blu-ray",
];

/** `known_for_department` values for crew-type people. */
export const CREW_DEPARTMENTS = [
  "Directing",
  "Writing",
  "Production",
  "Sound",
  "Camera",
  "Editing",
  "Art",
  "Costume & Make-Up",
  "Visual Effects",
  "Crew",
  "Lighting",
];

/** `[department, job]` pairs for crew credits (after the director). */
export const CREW_JOBS: readonly (readonly [string, string])[] = [
  ["Writing", "Screenplay"],
  ["Writing", "Writer"],
  ["Writing", "Novel"],
  ["Writing", "Story"],
  ["Production", "Producer"],
  ["Production", "Executive Producer"],
  ["Production", "Casting"],
  ["Production", "Co-Producer"],
  ["Sound", "Original Music Composer"],
  ["Sound", "Sound Designer"],
  ["Camera", "Director of Photography"],
  ["Camera", "Camera Operator"],
  ["Editing", "Editor"],
  ["Art", "Production Design"],
  ["Art", "Art Direction"],
  ["Costume & Make-Up", "Costume Design"],
  ["Costume & Make-Up", "Makeup Artist"],
  ["Visual Effects", "Visual Effects Supervisor"],
  ["Crew", "Stunt Coordinator"],
  ["Lighting", "Gaffer"],
  ["Directing", "Assistant Director"],
];

/** Video types as TMDB serves them. */
export const VIDEO_TYPES = [
  "Trailer",
  "Trailer",
  "Trailer",
  "Teaser",
  "Teaser",
  "Clip",
  "Featurette",
  "Behind the Scenes",
  "Bloopers",
];

/** English adjectives for titles. */
export const TITLE_ADJECTIVES = [
  "Silent",
  "Last",
  "Dark",
  "Golden",
  "Broken",
  "Hidden",
  "Lost",
  "Crimson",
  "Eternal",
  "Midnight",
  "Wild",
  "Frozen",
  "Burning",
  "Secret",
  "Distant",
  "Little",
  "Final",
  "Savage",
  "Electric",
  "Quiet",
  "Iron",
  "Hollow",
  "Scarlet",
  "Bitter",
  "Brave",
  "Velvet",
  "Endless",
  "Forgotten",
  "Sacred",
  "Restless",
];

/** English nouns for titles, keywords and companies. */
export const TITLE_NOUNS = [
  "Road",
  "River",
  "Kingdom",
  "Garden",
  "City",
  "Storm",
  "Heart",
  "Shadow",
  "Empire",
  "Summer",
  "Winter",
  "Island",
  "Mirror",
  "Horizon",
  "Station",
  "Harbor",
  "Promise",
  "Machine",
  "Frontier",
  "Symphony",
  "Witness",
  "Orchard",
  "Lighthouse",
  "Circus",
  "Signal",
  "Inheritance",
  "Ritual",
  "Border",
  "Dynasty",
  "Orbit",
];

/** Awkward real-world-style titles (punctuation, accents, emoji, markup) used now and then. */
export const AWKWARD_TITLES = [
  "Don't Look Now",
  "Amélie's Café",
  "Ça va? Ça va!",
  "Mission: Impossible – Dead Reckoning",
  '"Quoted" Title',
  "100% Wolf",
  "Night Shift 🎬",
  "Über Night",
  "Crème Brûlée",
  "Back & Forth",
  "O'Brien & Sons <Director's Cut>",
  "Se7en",
  "M",
  "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
  "¿Dónde Está?",
  "Zoë\\Backslash",
];

/** Original-title words per non-English language (native script where it has one). */
export const NATIVE_TITLE_WORDS: Readonly<Record<string, readonly string[]>> = {
  ja: [
    "夜",
    "東京",
    "物語",
    "桜",
    "侍",
    "海",
    "風",
    "約束",
    "幽霊",
    "少女",
    "家族",
    "夏",
    "雪",
    "影",
    "月",
  ],
  ko: [
    "밤",
    "서울",
    "이야기",
    "바다",
    "기억",
    "살인",
    "여름",
    "가족",
    "비밀",
    "사랑",
    "괴물",
    "도시",
  ],
  ru: ["Ночь", "Москва", "Брат", "Зима", "Сталкер", "Дорога", "Море", "Солнце", "Война", "Любовь"],
  ar: ["الليل", "القاهرة", "حكاية", "البحر", "الصحراء", "الحب", "المدينة", "الطريق", "الذاكرة"],
  zh: ["夜", "上海", "故事", "江湖", "英雄", "花", "月亮", "长城", "家", "梦"],
  hi: ["रात", "कहानी", "दिल", "सपना", "गाँव", "प्यार", "सफ़र", "मुंबई"],
  fr: ["La Nuit", "Le Jardin", "Les Enfants", "L'Été", "La Haine", "Le Voyage", "Mon Oncle"],
  es: ["La Noche", "El Camino", "Los Olvidados", "El Laberinto", "Mar Adentro", "La Ciénaga"],
  de: ["Die Nacht", "Der Himmel", "Das Boot", "Der Weg", "Die Brücke", "Lola rennt"],
  it: ["La Notte", "Il Sorpasso", "La Strada", "Il Mare", "Ladri di biciclette"],
};

/** Joiner between native title words. */
export const NATIVE_JOINER: Readonly<Record<string, string>> = {
  ja: "の",
  zh: "",
  ko: " ",
  ru: " ",
  ar: " ",
  hi: " ",
  fr: " ",
  es: " ",
  de: " ",
  it: " ",
};

/** `[latin, native]` given/family name pairs per culture; `familyFirst` orders the name. */
export interface NameCulture {
  /** Given names `[latin, native]`. */
  given: readonly (readonly [string, string])[];
  /** Family names `[latin, native]`. */
  family: readonly (readonly [string, string])[];
  /** Whether the family name comes first in the Latin name. */
  familyFirst: boolean;
  /** Whether `original_name` differs from `name` (native script). */
  nativeScript: boolean;
  /** Whether the native-script name is written family-first without a space (ja, ko, zh). */
  nativeCompact: boolean;
  /** Relative weight. */
  weight: number;
}

/** Person name cultures. */
export const NAME_CULTURES: readonly NameCulture[] = [
  {
    weight: 55,
    nativeCompact: false,
    familyFirst: false,
    nativeScript: false,
    given: [
      "James",
      "Mary",
      "Robert",
      "Patricia",
      "John",
      "Jennifer",
      "Michael",
      "Linda",
      "David",
      "Elizabeth",
      "William",
      "Susan",
      "Richard",
      "Jessica",
      "Thomas",
      "Sarah",
      "Chris",
      "Karen",
      "Daniel",
      "Emma",
      "Matthew",
      "Olivia",
      "Anthony",
      "Sophia",
      "Mark",
      "Grace",
      "Paul",
      "Chloe",
      "Steven",
      "Zoë",
    ].map((n) => [n, n] as const),
    family: [
      "Smith",
      "Johnson",
      "Williams",
      "Brown",
      "Jones",
      "Garcia",
      "Miller",
      "Davis",
      "Rodriguez",
      "Martinez",
      "Hernandez",
      "Lopez",
      "Wilson",
      "Anderson",
      "Thomas",
      "Taylor",
      "Moore",
      "Jackson",
      "Martin",
      "Lee",
      "Thompson",
      "White",
      "Harris",
      "Clark",
      "Lewis",
      "Robinson",
      "Walker",
      "O'Connor",
      "McAllister",
      "Young",
    ].map((n) => [n, n] as const),
  },
  {
    weight: 12,
    nativeCompact: false,
    familyFirst: false,
    nativeScript: false,
    given: ["José", "François", "Björn", "Amélie", "Jürgen", "Chiara", "Sofía", "Renée", "Łukasz"]
      .map((n) => [n, n] as const),
    family: ["Müller", "Dubois", "Rossi", "García", "Sørensen", "Nováková", "Lefèvre", "Ibáñez"]
      .map((n) => [n, n] as const),
  },
  {
    weight: 8,
    nativeCompact: true,
    familyFirst: false,
    nativeScript: true,
    given: [["Takeshi", "武"], ["Yuki", "由紀"], ["Haruki", "春樹"], ["Aoi", "葵"], [
      "Kenji",
      "健二",
    ], ["Mei", "芽衣"]],
    family: [["Tanaka", "田中"], ["Suzuki", "鈴木"], ["Yamamoto", "山本"], ["Kitano", "北野"], [
      "Sato",
      "佐藤",
    ], ["Watanabe", "渡辺"]],
  },
  {
    weight: 5,
    nativeCompact: true,
    familyFirst: true,
    nativeScript: true,
    given: [["Min-jun", "민준"], ["Seo-yeon", "서연"], ["Ji-hoon", "지훈"], ["Ha-eun", "하은"], [
      "Do-yoon",
      "도윤",
    ]],
    family: [["Kim", "김"], ["Lee", "이"], ["Park", "박"], ["Choi", "최"], ["Jung", "정"]],
  },
  {
    weight: 6,
    nativeCompact: false,
    familyFirst: false,
    nativeScript: true,
    given: [["Ivan", "Иван"], ["Olga", "Ольга"], ["Sergei", "Сергей"], ["Anna", "Анна"], [
      "Dmitri",
      "Дмитрий",
    ]],
    family: [["Petrov", "Петров"], ["Ivanova", "Иванова"], ["Smirnov", "Смирнов"], [
      "Volkova",
      "Волкова",
    ]],
  },
  {
    weight: 4,
    nativeCompact: false,
    familyFirst: false,
    nativeScript: true,
    given: [["Omar", "عمر"], ["Layla", "ليلى"], ["Youssef", "يوسف"], ["Nour", "نور"]],
    family: [["Haddad", "حداد"], ["Mansour", "منصور"], ["Khalil", "خليل"]],
  },
  {
    weight: 5,
    nativeCompact: true,
    familyFirst: true,
    nativeScript: true,
    given: [["Wei", "伟"], ["Fang", "芳"], ["Yimou", "艺谋"], ["Ziyi", "子怡"]],
    family: [["Zhang", "张"], ["Wang", "王"], ["Li", "李"], ["Chen", "陈"]],
  },
  {
    weight: 5,
    nativeCompact: false,
    familyFirst: false,
    nativeScript: true,
    given: [["Aamir", "आमिर"], ["Priya", "प्रिया"], ["Raj", "राज"], ["Deepika", "दीपिका"]],
    family: [["Khan", "ख़ान"], ["Kapoor", "कपूर"], ["Sharma", "शर्मा"]],
  },
];

/** Character name fragments. */
export const CHARACTER_ROLES = [
  "Detective",
  "Nurse",
  "Bartender",
  "Sheriff",
  "Doctor",
  "Pilot",
  "Reporter",
  "Soldier",
  "Teacher",
  "Waitress",
  "Mother",
  "Father",
  "Young Girl",
  "Old Man",
  "Stranger",
];

/** Keyword vocabulary (ids are derived from the index). */
export const KEYWORDS = [
  "based on novel or book",
  "revenge",
  "friendship",
  "dystopia",
  "time travel",
  "heist",
  "coming of age",
  "small town",
  "serial killer",
  "space",
  "artificial intelligence",
  "road trip",
  "martial arts",
  "world war ii",
  "biography",
  "sequel",
  "remake",
  "duringcreditsstinger",
  "aftercreditsstinger",
  "woman director",
  "zombie",
  "vampire",
  "love triangle",
  "survival",
  "kidnapping",
  "conspiracy",
  "anime",
  "musical",
  "sports",
  "superhero",
  "post-apocalyptic future",
  "family relationships",
  "high school",
  "new york city",
  "tokyo, japan",
  "seoul, south korea",
  "moscow, russia",
  "cairo, egypt",
  "独立電影",
  "christmas",
];

/** Tagline templates; `{n}` is replaced by a title noun. */
export const TAGLINES = [
  "Some secrets are better left buried.",
  "Every {n} has a price.",
  "The {n} is only the beginning.",
  "Nothing will ever be the same.",
  "One night. One chance.",
  "Based on a true story.",
  "Fear has a new home.",
  "Welcome to the {n}.",
  "Love finds a way.",
  "The legend returns.",
  "Now in theaters.",
  "Coming soon.",
];

/** Overview sentence templates; `{t}` title, `{n}` noun, `{p}` a character role. */
export const OVERVIEW_SENTENCES = [
  "A {p} discovers a hidden {n} that changes everything.",
  "When the {n} falls, a reluctant {p} must lead the survivors home.",
  "In a city divided by an ancient {n}, two strangers find an unlikely friendship.",
  "Years after the events at the {n}, an old {p} returns to settle a debt.",
  "Told over one long summer, {t} follows a family at the edge of the {n}.",
  "A retired {p} is pulled back for one last job.",
  "Nobody believed the {p} until the {n} began to speak.",
  "Based on the acclaimed novel, {t} is a story of love, loss and the {n}.",
];
