"""The shared sample agendas: they live beside the repository, <repo>/../shared/samples (CI clones the same way).

`COLETA_SAMPLES_DIR` points elsewhere (a git worktree one folder deeper than the clone).
"""

import os
from pathlib import Path

SAMPLES = Path(os.environ.get("COLETA_SAMPLES_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "samples")
DASAEXP_SAMPLE = SAMPLES / "Relatorio de agendamento - 2025-06-20T122858.131.xls"
SIMPLIFIED_SAMPLE = SAMPLES / "agenda_simplificada.xlsx"
CSV_SAMPLE = SAMPLES / "agenda_exportada_excel_br.csv"
