import { useNavigate } from "@tanstack/react-router";
import { useCallback } from "react";
import type { PatientSearch } from "./searchParams";

/** Change part of the search state in the URL (push: the back button undoes it; replace for typing). */
export function useSearchNav() {
  const navigate = useNavigate({ from: "/pacientes" });
  return useCallback(
    (patch: Partial<PatientSearch> | ((prev: PatientSearch) => PatientSearch), options: { replace?: boolean } = {}) =>
      navigate({
        search: (prev: PatientSearch) => {
          const next = typeof patch === "function" ? patch(prev) : { ...prev, ...patch };
          return Object.fromEntries(
            Object.entries(next).filter(([, v]) => v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0)),
          ) as PatientSearch;
        },
        replace: options.replace ?? false,
        resetScroll: false,
      }),
    [navigate],
  );
}
