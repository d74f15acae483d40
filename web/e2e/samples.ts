// The shared sample agendas, where tests/samples.py finds them: <repo>/../shared/samples.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SAMPLES = process.env.COLETA_SAMPLES_DIR ?? resolve(fileURLToPath(new URL("../../..", import.meta.url)), "shared", "samples");

export function sample(name: string): string {
  return resolve(SAMPLES, name);
}
