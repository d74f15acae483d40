import { queryOptions } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";

export type Schedule = Schemas["Schedule"];
export type ScheduleCar = Schemas["ScheduleCar"];
export type ScheduleVisit = Schemas["ScheduleVisit"];
export type Visit = Schemas["VisitRead"];

/** A day's schedule by car (staff shape: a driver's answer is DriverSchedule, read by the driver page). */
export function scheduleQuery(date: string, unit?: string, status?: ScheduleVisit["status"][]) {
  return queryOptions({
    queryKey: ["schedule", date, unit ?? null, status ?? null],
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET("/api/v1/visits", { params: { query: { date, unit, status } }, signal }))) as Schedule,
    staleTime: 2_000,
  });
}

export function visitQuery(id: string) {
  return queryOptions({
    queryKey: ["visit", id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/visits/{visit_id}", { params: { path: { visit_id: id } }, signal })),
  });
}

/** A visit counts for the day's work unless cancelled or dropped by the latest export (the API's "live"). */
export function isLive(visit: Pick<ScheduleVisit, "status" | "missing_from_latest_export">): boolean {
  return visit.status !== "cancelled" && !visit.missing_from_latest_export;
}
