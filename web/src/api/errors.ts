// The API's error body ({"error": {code, message, details}}) as a thrown value the screens can read.

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ApiProblem";
  }

  /** Search (OpenSearch) is down: the screens say so instead of "nothing found". */
  get searchDown(): boolean {
    return this.code === "search_unavailable" || (this.status === 503 && this.code !== "database_busy");
  }
}

const NETWORK = "Sem conexão com o servidor. Verifique a rede e tente de novo.";

/** Turn whatever came back (error body, HTML from a proxy, nothing) into an ApiProblem. */
export function toProblem(status: number, body: unknown): ApiProblem {
  const error = (body as ErrorBody | null)?.error;
  if (error && typeof error.code === "string") {
    return new ApiProblem(status, error.code, error.message || "Erro inesperado.", error.details ?? null);
  }
  if (status === 0) return new ApiProblem(0, "network_error", NETWORK);
  if (status >= 500) return new ApiProblem(status, "server_error", "O servidor não conseguiu responder. Tente de novo em instantes.");
  return new ApiProblem(status, "http_error", "Erro na requisição.");
}

/** Await an openapi-fetch call: its data, or its error thrown as an ApiProblem. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    if (error instanceof ApiProblem) throw error;
    if ((error as Error)?.name === "AbortError") throw error;
    throw new ApiProblem(0, "network_error", NETWORK);
  }
  if (result.error !== undefined || !result.response.ok) throw toProblem(result.response.status, result.error);
  return result.data as T;
}

/** A problem's text for a person. */
export function problemMessage(error: unknown): string {
  if (error instanceof ApiProblem) return error.message;
  return "Erro inesperado. Tente de novo.";
}
