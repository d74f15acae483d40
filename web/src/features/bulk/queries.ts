import { queryOptions } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";

export type BulkJob = Schemas["BulkJobRead"];
export type BulkJobSummary = Schemas["BulkJobSummary"];
/** Still moving: its counters and items change, so the screens follow it. */
export const jobRunning = (status: string) => status === "queued" || status === "running" || status === "cancelling";
/** What "Cancelar" may stop. */
export const jobCancellable = (status: string) => status === "queued" || status === "running";

export function cancelJob(id: string) {
  return unwrap(api.POST("/api/v1/bulk/{job_id}/cancel", { params: { path: { job_id: id } } }));
}

export function bulkJobQuery(id: string, outcome?: "pending" | "ok" | "error" | "skipped", limit = 200) {
  return queryOptions({
    queryKey: ["bulk", id, outcome ?? null, limit],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/bulk/{job_id}", { params: { path: { job_id: id }, query: { outcome, limit } }, signal })),
    staleTime: 0,
    refetchInterval: (query) => (!query.state.data || jobRunning(query.state.data.status) ? 1_000 : false),
  });
}
