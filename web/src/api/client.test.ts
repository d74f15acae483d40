import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs module shared with the generator script
import { generateSchema } from "../../scripts/schema.mjs";

describe("generated client", () => {
  it("schema.d.ts is what openapi-typescript makes of the committed openapi.json", async () => {
    const dir = resolve(__dirname);
    const fresh = await generateSchema(resolve(dir, "openapi.json"));
    const committed = readFileSync(resolve(dir, "schema.d.ts"), "utf8");
    expect(committed, "rode `npm run gen:api` e faça commit de src/api/schema.d.ts").toBe(fresh);
  });
});
