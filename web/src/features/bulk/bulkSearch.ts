// The target of a new bulk job lives in the URL: the patient search it came from, or the visits picked on the board.
import { z } from "zod";
import { parsePatientSearch, type PatientSearch } from "../search/searchParams";

export const ACTIONS = ["confirm", "send_message", "reschedule", "move_car", "add_tags", "remove_tags", "export"] as const;
export type Action = (typeof ACTIONS)[number];

// A target is one of: visits picked on the board (`visita`), patients ticked in the search (`paciente`), or the search itself.
export interface BulkNewSearch extends PatientSearch {
  visita?: string[];
  paciente?: string[];
  acao?: Action;
}

const ids = z
  .preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String).filter(Boolean)), z.array(z.string().max(36)).max(5000).optional())
  .catch(undefined);

export function parseBulkNewSearch(raw: Record<string, unknown>): BulkNewSearch {
  const out: BulkNewSearch = { ...parsePatientSearch(raw) };
  const visita = ids.parse(raw.visita);
  if (visita?.length) out.visita = visita;
  const paciente = ids.parse(raw.paciente);
  if (paciente?.length && !visita?.length) out.paciente = paciente;
  const acao = z.enum(ACTIONS).optional().catch(undefined).parse(raw.acao);
  if (acao) out.acao = acao;
  return out;
}

export const JOB_STATUSES = ["queued", "running", "cancelling", "done", "failed", "cancelled"] as const;

export interface BulkListSearch {
  situacao?: (typeof JOB_STATUSES)[number];
  acao?: Action;
  /** Admins: everyone's jobs (the API's actor=all); otherwise one's own. */
  todos?: true;
}

export function parseBulkListSearch(raw: Record<string, unknown>): BulkListSearch {
  const out: BulkListSearch = {};
  const situacao = z.enum(JOB_STATUSES).optional().catch(undefined).parse(raw.situacao);
  if (situacao) out.situacao = situacao;
  const acao = z.enum(ACTIONS).optional().catch(undefined).parse(raw.acao);
  if (acao) out.acao = acao;
  if (raw.todos === true || raw.todos === "true") out.todos = true;
  return out;
}
