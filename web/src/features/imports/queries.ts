import { queryOptions } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";

export type ImportRead = Schemas["ImportRead"];
export type ImportSummary = Schemas["ImportSummary"];

export const running = (status: string) => status === "queued" || status === "processing";

export const importsQuery = queryOptions({
  queryKey: ["imports"],
  queryFn: ({ signal }) => unwrap(api.GET("/api/v1/imports", { params: { query: { limit: 50 } }, signal })),
  staleTime: 0,
  // While any import runs, the list follows it.
  refetchInterval: (query) => (query.state.data?.items.some((i) => running(i.status)) ? 2_000 : false),
});

export function importQuery(id: string) {
  return queryOptions({
    queryKey: ["imports", id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/imports/{import_id}", { params: { path: { import_id: id } }, signal })),
    staleTime: 0,
    // Live progress while the worker runs: the row counts move every committed batch.
    refetchInterval: (query) => (!query.state.data || running(query.state.data.status) ? 1_000 : false),
  });
}

/** Upload a spreadsheet; the API answers 202 with the import's id. */
export function uploadImport(file: File) {
  return unwrap(api.POST("/api/v1/imports", {
    body: { file: file as unknown as string },
    bodySerializer: () => {
      const form = new FormData();
      form.append("file", file, file.name);
      return form;
    },
  }));
}
