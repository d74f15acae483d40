// The signed-in account and what its role may do.
import { queryOptions, useSuspenseQuery } from "@tanstack/react-query";
import { api, type Schemas } from "./api/client";
import { unwrap } from "./api/errors";

export type Me = Schemas["UserRead"];

export const meQuery = queryOptions({
  queryKey: ["me"],
  queryFn: () => unwrap(api.GET("/api/v1/users/me")),
  staleTime: Infinity,
});

export interface Abilities {
  editPatients: boolean;
  seeAudit: boolean;
  seeContactsInFull: boolean;
  /** Reschedule, change statuses, log attempts, send messages, import, run bulk jobs, manage the fleet. */
  operate: boolean;
  /** Users, audit, sync status, reindex. */
  administer: boolean;
  /** The staff screens (a driver has only their own day). */
  staff: boolean;
}

export function abilities(role: string): Abilities {
  const operate = role === "admin" || role === "operator";
  return {
    editPatients: operate,
    seeAudit: role === "admin",
    seeContactsInFull: operate,
    operate,
    administer: role === "admin",
    staff: role !== "driver",
  };
}

export function useMe(): Me & { can: Abilities } {
  const { data } = useSuspenseQuery(meQuery);
  return { ...data, can: abilities(data.role) };
}
