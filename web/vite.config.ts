/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev`: the API (`make run`, :8000) behind the dev server's proxy, so the app runs on one origin.
const api = process.env.COLETA_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: Object.fromEntries(
      ["/api", "/healthz", "/readyz", "/docs", "/openapi.json"].map((path) => [path, { target: api, changeOrigin: false }]),
    ),
  },
  build: {
    target: "es2022",
    sourcemap: false,
    // The first screen's budget (≤ 300 kB gzip) is measured by bench/web_speed; raw size is no guide.
    chunkSizeWarningLimit: 1000,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
