// URL state of the part-2 screens: each route reads only what it knows; anything unusable is dropped.
import { z } from "zod";
import { isoDateRe } from "./lib/dates";

const day = z.string().regex(isoDateRe).optional().catch(undefined);
const text = (max = 200) => z.string().max(max).optional().catch(undefined).transform((v) => v || undefined);
const flag = z.preprocess((v) => (v === "true" || v === true ? true : undefined), z.literal(true).optional()).catch(undefined);
const list = z
  .preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String).filter(Boolean)), z.array(z.string().max(64)).max(500).optional())
  .catch(undefined)
  .transform((v) => (v && v.length ? v : undefined));

function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
// Every key optional: a link names only what it sets.
function parser<S extends z.ZodType>(schema: S) {
  return (raw: Record<string, unknown>): Partial<z.output<S>> => clean(schema.parse(raw) as object) as Partial<z.output<S>>;
}

export const PERIODS = ["7", "30", "90"] as const;
export const RATE_GROUPS = ["channel", "neighborhood", "hour", "weekday", "car"] as const;

export const dashboardSearch = parser(z.object({
  data: day, unidade: text(20), periodo: z.enum(PERIODS).optional().catch(undefined),
  grupo: z.enum(RATE_GROUPS).optional().catch(undefined), tendencia: z.enum(PERIODS).optional().catch(undefined),
}));
export type DashboardSearch = ReturnType<typeof dashboardSearch>;

export const boardSearch = parser(z.object({
  data: day, unidade: text(20), visita: text(36), nova: flag, selecionar: flag, selecao: list,
}));
export type BoardSearch = ReturnType<typeof boardSearch>;

export const confirmationsSearch = parser(z.object({
  data: day, unidade: text(20), situacao: z.enum(["pendentes", "recusadas"]).optional().catch(undefined), mensagem: text(36),
}));
export type ConfirmationsSearch = ReturnType<typeof confirmationsSearch>;

export const importSearch = parser(z.object({
  nivel: z.enum(["error", "warning", "skipped"]).optional().catch(undefined), codigo: text(64), busca: text(100),
  mudanca: z.enum(["created", "updated", "unchanged", "missing"]).optional().catch(undefined), dia: day, carro: text(36),
}));
export type ImportSearch = ReturnType<typeof importSearch>;

export const bulkJobSearch = parser(z.object({
  resultado: z.enum(["error", "ok", "skipped", "pending"]).optional().catch(undefined),
}));

export const FLEET_TABS = ["equipes", "carros", "motoristas", "coletoras"] as const;
export const fleetSearch = parser(z.object({ aba: z.enum(FLEET_TABS).optional().catch(undefined), data: day }));
export type FleetSearch = ReturnType<typeof fleetSearch>;

export const ADMIN_TABS = ["usuarios", "auditoria", "sincronizacao"] as const;
export const adminSearch = parser(z.object({
  aba: z.enum(ADMIN_TABS).optional().catch(undefined), paciente: text(36), quem: text(36), acao: text(40), de: day, ate: day,
}));
export type AdminSearch = ReturnType<typeof adminSearch>;

export const driverSearch = parser(z.object({ data: day }));
