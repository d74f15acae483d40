import { infiniteQueryOptions, keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";
import { apiQuery, type FacetName, type PatientSearch } from "./searchParams";

export type PatientPage = Schemas["PatientPage"];
export type PatientSummary = Schemas["PatientSummary"];
export type FacetBucket = Schemas["FacetValue"];

export const PAGE_SIZE = 25;

/**
 * One cache entry per search state: a late answer to an older query lands in the older entry and
 * is never shown for the newer one; leaving a state aborts its request (`signal`).
 */
export function patientSearchQuery(search: PatientSearch) {
  const query = apiQuery(search);
  return infiniteQueryOptions({
    queryKey: ["patients", "search", query],
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/patients", { params: { query: { ...query, page_size: PAGE_SIZE, cursor: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: PatientPage) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    // The index follows PostgreSQL within a second: a search made again a moment later is asked again.
    staleTime: 2_000,
  });
}

/** Values of one facet for the current search: those starting with `prefix`, or more than the first 20. */
export function facetValuesQuery(name: FacetName, search: PatientSearch, prefix: string, size: number) {
  const query = apiQuery(search);
  return queryOptions({
    queryKey: ["patients", "facet", name, query, prefix, size],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/patients/facets/{name}", {
        params: { path: { name }, query: { ...query, prefix: prefix || undefined, size } }, signal,
      })),
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

export function suggestQuery(q: string) {
  return queryOptions({
    queryKey: ["patients", "suggest", q],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/patients/suggest", { params: { query: { q } }, signal })),
    enabled: q.trim().length >= 2,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });
}
