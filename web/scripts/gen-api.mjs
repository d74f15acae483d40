// `npm run gen:api`: dump the API's OpenAPI document and generate the typed client's types from it.
// Both files are committed; tests/api/test_web_client.py and src/api/client.test.ts fail when stale.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSchema } from "./schema.mjs";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(web, "..");
const python = process.env.PYTHON ?? resolve(root, ".venv/bin/python");
const specPath = resolve(web, "src/api/openapi.json");

// The back end's own dump script when it has one; else the app object's document.
const dump = existsSync(resolve(root, "api/openapi.py"))
  ? ["-m", "api.openapi", specPath]
  : ["-c", `import json,sys; from api.app import app; open(sys.argv[1], "w").write(json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\\n")`, specPath];
execFileSync(python, dump, { cwd: root, stdio: "inherit", env: { ...process.env, COLETA_ENVIRONMENT: "development" } });

writeFileSync(resolve(web, "src/api/schema.d.ts"), await generateSchema(specPath));
console.log("src/api/openapi.json e src/api/schema.d.ts atualizados");
