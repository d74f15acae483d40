// Every state of the patient search lives in the URL: shareable, and the back button works.
// `/pacientes?q=maria&car=CARRO+1&car=CARRO+2&periodo=amanha&ordem=name&visao=cartoes`
import { z } from "zod";
import { addDays, todayIso, weekOf } from "../../lib/dates";

/** Facets the API returns and filters it takes under the same name. */
export const FACETS = ["confirmation_status", "car", "unit", "neighborhood", "health_plan", "tag"] as const;
export type FacetName = (typeof FACETS)[number];

export const SORTS = ["relevance", "name", "next_visit", "-last_visit"] as const;
export type Sort = (typeof SORTS)[number];
export const SORT_LABELS: Record<Sort, string> = {
  relevance: "Relevância",
  name: "Nome (A–Z)",
  next_visit: "Próxima visita",
  "-last_visit": "Última visita (recentes)",
};

export const PERIODS = ["hoje", "amanha", "semana", "personalizado"] as const;
export type Period = (typeof PERIODS)[number];
export const PERIOD_LABELS: Record<Period, string> = {
  hoje: "Hoje",
  amanha: "Amanhã",
  semana: "Esta semana",
  personalizado: "Personalizado",
};

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
// One value or many (a repeated parameter); anything unusable is dropped, never an error page.
const values = z
  .preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String).filter(Boolean)), z.array(z.string().max(200)).max(50).optional())
  .catch(undefined)
  .transform((v) => (v && v.length ? v : undefined));

const schema = z.object({
  q: z.string().max(200).optional().catch(undefined).transform((v) => v || undefined),
  confirmation_status: values,
  car: values,
  unit: values,
  neighborhood: values,
  health_plan: values,
  tag: values,
  periodo: z.enum(PERIODS).optional().catch(undefined),
  de: isoDate.optional().catch(undefined),
  ate: isoDate.optional().catch(undefined),
  recorrentes: z.preprocess((v) => (v === "true" || v === true ? true : undefined), z.literal(true).optional()).catch(undefined),
  ordem: z.enum(SORTS).optional().catch(undefined),
  visao: z.enum(["lista", "cartoes"]).optional().catch(undefined),
});

export interface PatientSearch {
  q?: string;
  confirmation_status?: string[];
  car?: string[];
  unit?: string[];
  neighborhood?: string[];
  health_plan?: string[];
  tag?: string[];
  periodo?: Period;
  de?: string;
  ate?: string;
  recorrentes?: true;
  ordem?: Sort;
  visao?: "lista" | "cartoes";
}

/** Parse the URL's search params (already split into strings and string arrays). */
export function parsePatientSearch(raw: Record<string, unknown>): PatientSearch {
  const parsed = schema.parse(raw);
  // Drop the keys left undefined, so the URL never grows `?a=&b=`.
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as PatientSearch;
}

/** The visit date range the search asks for: a preset relative to today (São Paulo), or the dates typed. */
export function visitRange(search: PatientSearch, today: string = todayIso()): { from?: string; to?: string } {
  switch (search.periodo) {
    case "hoje":
      return { from: today, to: today };
    case "amanha":
      return { from: addDays(today, 1), to: addDays(today, 1) };
    case "semana": {
      const [from, to] = weekOf(today);
      return { from, to };
    }
    case "personalizado":
      return { from: search.de, to: search.ate };
    default:
      return {};
  }
}

/** The query parameters of GET /api/v1/patients for this state. */
export function apiQuery(search: PatientSearch, today?: string) {
  const { from, to } = visitRange(search, today);
  return {
    q: search.q,
    confirmation_status: search.confirmation_status as ("confirmed" | "pending" | "declined")[] | undefined,
    car: search.car,
    unit: search.unit,
    neighborhood: search.neighborhood,
    health_plan: search.health_plan,
    tag: search.tag,
    visit_from: from,
    visit_to: to,
    recurring: search.recorrentes,
    sort: effectiveSort(search),
  };
}

/** The order asked for; without words to rank by, relevance means nothing: by name. */
export function effectiveSort(search: PatientSearch): Sort {
  return search.ordem ?? (search.q ? "relevance" : "name");
}

/** The search state but the words typed and how the results are shown: what the filter panel and chips read. */
export type SearchFilters = Omit<PatientSearch, "q" | "ordem" | "visao">;
export function filtersOf(search: PatientSearch): SearchFilters {
  const { q: _q, ordem: _ordem, visao: _visao, ...filters } = search;
  return filters;
}

/** The filters in force, for the chips (the search box and the view aside). */
export function hasFilters(search: PatientSearch): boolean {
  return FACETS.some((f) => search[f]?.length) || !!search.periodo || !!search.recorrentes;
}

/** Saved filters: one click to the searches staff run every day. */
export const PRESETS: { id: string; label: string; search: PatientSearch }[] = [
  { id: "pendentes-amanha", label: "Pendentes de amanhã", search: { periodo: "amanha", confirmation_status: ["pending"], ordem: "next_visit" } },
  { id: "recorrentes", label: "Recorrentes", search: { recorrentes: true } },
  { id: "visitas-hoje", label: "Visitas de hoje", search: { periodo: "hoje", ordem: "next_visit" } },
];

/** URL search strings: repeated keys for lists (`car=A&car=B`), plain values otherwise. */
export function stringifySearch(search: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function parseSearch(text: string): Record<string, unknown> {
  const params = new URLSearchParams(text.startsWith("?") ? text.slice(1) : text);
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length > 1 ? all : all[0]!;
  }
  return out;
}

let last: PatientSearch = {};
/** The search the user last saw, for the profile's "voltar à busca". */
export function rememberSearch(search: PatientSearch): void {
  last = search;
}
export function lastSearch(): PatientSearch {
  return last;
}
