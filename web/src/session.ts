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
}

export function abilities(role: string): Abilities {
  return {
    editPatients: role === "admin" || role === "operator",
    seeAudit: role === "admin",
    seeContactsInFull: role === "admin" || role === "operator",
  };
}

export function useMe(): Me & { can: Abilities } {
  const { data } = useSuspenseQuery(meQuery);
  return { ...data, can: abilities(data.role) };
}
