"""Admin CLI: `python -m workers reindex|sync-status|drain|setup-index|find-duplicates|users …`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from tqdm import tqdm

from indexing import lifecycle, sync
from storage import outbox
from storage.audit import service as audit_service
from storage.db import unit_of_work
from storage.errors import DomainError, NotFound
from storage.users import repo as user_repo
from storage.users import service as user_service
from storage.users.models import ROLES
from workers import user_generation
from workers.settings import get_settings

# Where a new password may come from besides --password-stdin (never the command line itself).
PASSWORD_ENV = "COLETA_USER_PASSWORD"
DEV_ENVIRONMENTS = ("development", "test")


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
    for index in lifecycle.outdated():
        if not args.upgrade:
            print(f"O índice {index} usa um mapeamento antigo; rode `python -m workers reindex --index {index}`.")
            continue
        status = _reindex(argparse.Namespace(index=index, keep_old=False, quiet=True))
        if status:
            return status
    return 0


def _read_password(args: argparse.Namespace, env: str = PASSWORD_ENV) -> str | None:
    """The new password from stdin (--password-stdin), the environment, or a prompt on a terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(env):
        return os.environ[env]
    if sys.stdin.isatty():
        first = getpass.getpass("Senha: ")
        if getpass.getpass("Repita a senha: ") != first:
            print("As senhas não conferem.", file=sys.stderr)
            return None
        return first
    print(f"Informe a senha por --password-stdin ou pela variável {env}.", file=sys.stderr)
    return None


def _cli_actor() -> audit_service.Actor:
    return audit_service.Actor(user_id=None, role="system", user_agent="cli")


def _print_user(user) -> None:
    car = f" carro={user.car_id}" if user.car_id else ""
    print(f"{user.id}  {user.email}  {user.role}  {'ativo' if user.active else 'inativo'}{car}")


def _users_create(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return 2
    data = {"email": args.email, "name": args.name, "role": args.role, "password": password, "car_id": args.car_id}
    with unit_of_work() as session:
        user = user_service.create(session, data, actor=_cli_actor())
    print(f"Usuário criado: {user.id} ({user.email}, {user.role}).")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    with unit_of_work() as session:
        users = user_repo.list_all(session)
        for user in users:
            _print_user(user)
    if not users:
        print("Nenhum usuário.")
    return 0


def _find(session, email: str):
    user = user_repo.get_by_email(session, user_service.normalize_email(email))
    if user is None:
        raise NotFound("user")
    return user


def _users_change(args: argparse.Namespace, changes: dict, done: str) -> int:
    with unit_of_work() as session:
        user = _find(session, args.email)
        user_service.update(session, user.id, changes, actor=_cli_actor())
    user_generation.bump(user.id)  # committed: API processes drop their copy of the user now
    print(done)
    return 0


def _users_deactivate(args: argparse.Namespace) -> int:
    return _users_change(args, {"active": False}, "Usuário desativado; os tokens dele deixaram de valer.")


def _users_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return 2
    return _users_change(args, {"password": password}, "Senha alterada; os tokens anteriores deixaram de valer.")


def _users_ensure_admin(args: argparse.Namespace) -> int:
    settings = get_settings()
    email = args.email or settings.admin_email
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif settings.admin_password is not None:
        password = settings.admin_password.get_secret_value()
    elif settings.environment in DEV_ENVIRONMENTS:
        password = user_service.DEFAULT_ADMIN_PASSWORD
    else:
        print("Defina COLETA_ADMIN_PASSWORD (ou use --password-stdin).", file=sys.stderr)
        return 2
    if password == user_service.DEFAULT_ADMIN_PASSWORD and settings.environment not in DEV_ENVIRONMENTS:
        print(f"A senha padrão não é aceita no ambiente {settings.environment!r}.", file=sys.stderr)
        return 2
    with unit_of_work() as session:
        user, created = user_service.ensure_admin(session, email, password, reset=args.reset)
        if created:
            audit_service.record(session, _cli_actor(), "user.create", "user", user.id, {"fields": ["email", "name", "password", "role"]})
        elif args.reset:
            audit_service.record(session, _cli_actor(), "user.update", "user", user.id, {"fields": ["active", "password", "role"]})
    if args.reset:
        user_generation.bump(user.id)
    state = "criado" if created else ("redefinido" if args.reset else "já existia")
    print(f"Administrador {user.email}: {state}.")
    return 0


def _add_users_commands(commands) -> None:
    users = commands.add_parser("users", help="contas de acesso (criar, listar, desativar, trocar senha)")
    sub = users.add_subparsers(dest="users_command", required=True)
    stdin_help = f"lê a senha da primeira linha da entrada padrão (senão: variável {PASSWORD_ENV} ou prompt)"

    create = sub.add_parser("create", help="cria um usuário")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--car-id", help="carro atribuído (só motoristas)")
    create.add_argument("--password-stdin", action="store_true", help=stdin_help)
    create.set_defaults(run=_users_create)

    sub.add_parser("list", help="lista os usuários").set_defaults(run=_users_list)

    deactivate = sub.add_parser("deactivate", help="desativa um usuário (os tokens dele param de valer)")
    deactivate.add_argument("--email", required=True)
    deactivate.set_defaults(run=_users_deactivate)

    set_password = sub.add_parser("set-password", help="troca a senha de um usuário")
    set_password.add_argument("--email", required=True)
    set_password.add_argument("--password-stdin", action="store_true", help=stdin_help)
    set_password.set_defaults(run=_users_set_password)

    ensure = sub.add_parser(
        "ensure-admin", help="cria o administrador de COLETA_ADMIN_EMAIL/COLETA_ADMIN_PASSWORD se não existir"
    )
    ensure.add_argument("--email", help="padrão: COLETA_ADMIN_EMAIL")
    ensure.add_argument("--password-stdin", action="store_true", help="lê a senha da entrada padrão")
    ensure.add_argument("--reset", action="store_true", help="se já existir: volta a admin ativo com esta senha")
    ensure.set_defaults(run=_users_ensure_admin)


def _import_file(args: argparse.Namespace) -> int:
    """Register a spreadsheet file and apply it (here, or by queueing it for the workers)."""
    from pathlib import Path

    from storage.imports import service as import_service
    from workers.enqueue import enqueue_import

    path = Path(args.path)
    with unit_of_work() as session, path.open("rb") as file:  # stored a chunk at a time, never read whole
        import_id = import_service.register_upload(session, path.name, file).id
    if args.queue:
        enqueue_import(import_id)
        print(f"Importação {import_id} enfileirada.")
        return 0
    status = import_service.apply_import(import_id)
    with unit_of_work() as session:
        report = import_service.report(session, import_id, issue_limit=None)
    print(json.dumps({k: v for k, v in report.items() if k != "issues"}, default=str, indent=2, ensure_ascii=False))
    for issue in report["issues"][:50]:
        print(f"linha {issue['row']}: [{issue['level']}] {issue['code']}: {issue['message']}")
    return 0 if status == "succeeded" else 1


def _resume_imports(args: argparse.Namespace) -> int:
    """Queue again the imports whose task was lost (queued or processing with no progress for a while)."""
    from datetime import timedelta

    from storage.imports import service as import_service
    from workers.enqueue import enqueue_import
    from workers.tasks.imports import IMPORT_MAX_RUNS

    with unit_of_work() as session:
        stalled = import_service.resume_stalled(
            session, quiet=timedelta(minutes=args.quiet_minutes), max_attempts=IMPORT_MAX_RUNS
        )
    for import_id in stalled:
        enqueue_import(import_id)
    print(f"{len(stalled)} importação(ões) reenfileirada(s).")
    return 0


def _find_duplicates(args: argparse.Namespace) -> int:
    """Scan the whole registry for possible duplicates and fill the review queue (a progress bar per stage)."""
    from storage.duplicates import scan

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="it", disable=args.quiet)
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    report = scan.scan(progress=progress)
    for bar in bars.values():
        bar.close()
    print(json.dumps({
        "patients": report.patients, "keys": report.keys, "candidate_pairs": report.candidate_pairs,
        "skipped_blocks": report.skipped_blocks, "decided_left_out": report.decided_left_out,
        "review": report.review, "auto": report.auto,
        "seconds": {stage: round(seconds, 1) for stage, seconds in report.seconds.items()},
    }, indent=2))
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
    setup_index = commands.add_parser("setup-index", help="cria os índices e aliases que faltarem")
    setup_index.add_argument("--upgrade", action="store_true",
                             help="reconstrói (sem parar as buscas) os índices com mapeamento antigo")
    setup_index.set_defaults(run=_setup_index)
    import_file = commands.add_parser("import-file", help="importa uma planilha DasaExp (aplica aqui ou enfileira)")
    import_file.add_argument("path")
    import_file.add_argument("--queue", action="store_true", help="enfileira para os workers em vez de aplicar aqui")
    import_file.set_defaults(run=_import_file)
    resume = commands.add_parser("resume-imports", help="reenfileira importações paradas (tarefa perdida)")
    resume.add_argument("--quiet-minutes", type=float, default=10.0)
    resume.set_defaults(run=_resume_imports)
    find = commands.add_parser("find-duplicates", help="procura cadastros duplicados em todo o registro (fila de revisão)")
    find.add_argument("--quiet", action="store_true", help="sem barra de progresso")
    find.set_defaults(run=_find_duplicates)
    _add_users_commands(commands)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except DomainError as error:
        print(f"Erro: {error.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
