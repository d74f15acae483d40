import { infiniteQueryOptions, keepPreviousData, queryOptions, type QueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";
import { apiQuery, type FacetName, type PatientSearch } from "./searchParams";

export type PatientPage = Schemas["PatientPage"];
export type PatientSummary = Schemas["PatientSummary"];
export type FacetBucket = Schemas["FacetValue"];

export type SearchFacets = Schemas["PatientFacets"];

export const PAGE_SIZE = 25;

/**
 * One cache entry per search state: a late answer to an older query lands in the older entry and
 * is never shown for the newer one; leaving a state aborts its request (`signal`).
 *
 * The results come without their facets (`facets=false`): counting every facet is most of the
 * search's time (over the whole registry, with an empty box, nearly all of it), so the facets are
 * asked after them (`patientFacetsQuery`) and the results are painted without waiting for them.
 */
export function patientSearchQuery(search: PatientSearch) {
  const query = apiQuery(search);
  return infiniteQueryOptions({
    queryKey: ["patients", "search", query],
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/patients", {
        params: { query: { ...query, page_size: PAGE_SIZE, cursor: pageParam, facets: false } }, signal,
      })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: PatientPage) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    // The index follows PostgreSQL within a second: a search made again a moment later is asked again.
    staleTime: 2_000,
  });
}

/**
 * Every facet of a search state, asked once its results are in; the order does not change
 * them, so it is not part of the key (re-sorting does not ask again). The previous state's counts
 * stay (dimmed by the panel) while the new ones load.
 */
export function patientFacetsQuery(search: PatientSearch) {
  const { sort: _sort, ...query } = apiQuery(search);
  return queryOptions({
    queryKey: ["patients", "facets", query],
    queryFn: async ({ signal }): Promise<SearchFacets> =>
      (await unwrap(api.GET("/api/v1/patients/facets", { params: { query }, signal }))).facets,
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

/**
 * The results of a search state (typing, the route's loader), asked at once; settles when they are in
 * (never rejects). Its facets are asked by the page once the results are painted (see SearchPage).
 */
export function prefetchSearch(client: QueryClient, search: PatientSearch): Promise<void> {
  return client.prefetchInfiniteQuery(patientSearchQuery(search));
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
