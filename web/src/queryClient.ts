import { QueryClient } from "@tanstack/react-query";
import { ApiProblem } from "./api/errors";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // A 4xx will not get better by asking again; a blip of the network or a 503 might.
      retry: (count, error) => count < 1 && !(error instanceof ApiProblem && error.status >= 400 && error.status < 500),
    },
  },
});
