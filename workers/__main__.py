"""Admin CLI: `python -m workers reindex|sync-status|drain|setup-index`."""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from indexing import lifecycle, sync
from storage import outbox
from storage.db import unit_of_work


def _reindex(args: argparse.Namespace) -> int:
    bar = tqdm(total=0, unit="doc", desc=f"reconstruindo {args.index}", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = lifecycle.rebuild(args.index, progress=progress, keep_old=args.keep_old)
    except lifecycle.RebuildError as error:
        bar.close()
        print(f"Reconstrução cancelada: {error}", file=sys.stderr)
        return 1
    bar.close()
    print(
        f"Índice {report.index} reconstruído: {report.documents} documentos em {report.seconds:.1f}s; "
        f"alias agora em {report.new_index} (antes: {', '.join(report.old_indices) or 'nenhum'})."
    )
    return 0


def _sync_status(args: argparse.Namespace) -> int:
    with unit_of_work() as session:
        pending, oldest = outbox.backlog(session)
    rows, indexed = lifecycle.document_counts("patients")
    print(json.dumps({"outbox_pending": pending, "oldest_pending_seconds": oldest,
                      "patients": {"postgres": rows, "index": indexed}}, indent=2))
    return 0


def _drain(args: argparse.Namespace) -> int:
    result = sync.drain(max_batches=args.max_batches)
    print(f"{result.applied_entities} aplicados, {result.failed_entities} com falha.")
    return 0


def _setup_index(args: argparse.Namespace) -> int:
    for alias, index in lifecycle.setup().items():
        print(f"{alias} -> {index}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one admin command."""
    parser = argparse.ArgumentParser(prog="python -m workers", description="Comandos de administração do Coleta")
    commands = parser.add_subparsers(dest="command", required=True)
    reindex = commands.add_parser("reindex", help="reconstrói um índice a partir do PostgreSQL, sem parar as buscas")
    reindex.add_argument("--index", default="patients", choices=lifecycle.INDICES)
    reindex.add_argument("--keep-old", action="store_true", help="mantém o índice antigo após a troca")
    reindex.add_argument("--quiet", action="store_true", help="sem barra de progresso")
    reindex.set_defaults(run=_reindex)
    commands.add_parser("sync-status", help="fila do outbox e contagens PostgreSQL x índice").set_defaults(run=_sync_status)
    drain = commands.add_parser("drain", help="aplica o outbox no índice agora")
    drain.add_argument("--max-batches", type=int, default=1000)
    drain.set_defaults(run=_drain)
    commands.add_parser("setup-index", help="cria os índices e aliases que faltarem").set_defaults(run=_setup_index)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
