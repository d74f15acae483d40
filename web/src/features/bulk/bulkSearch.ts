// The target of a new bulk job lives in the URL: the patient search it came from, or the visits picked on the board.
import { z } from "zod";
import { parsePatientSearch, type PatientSearch } from "../search/searchParams";

export const ACTIONS = ["confirm", "send_message", "reschedule", "move_car", "add_tags", "remove_tags", "export"] as const;
export type Action = (typeof ACTIONS)[number];

export interface BulkNewSearch extends PatientSearch {
  visita?: string[];
  acao?: Action;
}

const ids = z
  .preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String).filter(Boolean)), z.array(z.string().max(36)).max(5000).optional())
  .catch(undefined);

export function parseBulkNewSearch(raw: Record<string, unknown>): BulkNewSearch {
  const out: BulkNewSearch = { ...parsePatientSearch(raw) };
  const visita = ids.parse(raw.visita);
  if (visita?.length) out.visita = visita;
  const acao = z.enum(ACTIONS).optional().catch(undefined).parse(raw.acao);
  if (acao) out.acao = acao;
  return out;
}

const KEY = "coleta.bulk.recent";

/** Jobs started in this browser, newest first (until the API lists jobs: web/API-NEEDS.md §6). */
export function recentJobs(): string[] {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string").slice(0, 30) : [];
  } catch {
    return [];
  }
}

export function rememberJob(id: string): void {
  localStorage.setItem(KEY, JSON.stringify([id, ...recentJobs().filter((x) => x !== id)].slice(0, 30)));
}
