"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from api import errors, logs, openapi, web
from api.admission import AdmissionMiddleware
from api.nul_guard import NulGuardMiddleware
from api.routers import admin, auth, cars, collectors, drivers, health, imports, jobs, patients, stats, teams, users
from api.routers import visits as visits_router
from api.routers import messages as messages_router
from api.routers import duplicates as duplicates_router
from api.routers import webhooks as webhooks_router
from api.routers import units as units_router
from api.routers import audit as audit_router
from api.routers import confirmations as confirmations_router
from api.routers import route_sheets as route_sheets_router
from api.settings import get_settings
from api.staff_load import StaffLoadMiddleware
from observability.logs import configure as configure_logging
from storage.settings import get_settings as get_storage_settings


def create_app() -> FastAPI:
    """Build the app: logging, routers, error handlers, CORS, request ids."""
    settings = get_settings()
    configure_logging(settings.log_level)
    # Swagger UI and ReDoc from assets in the package, never from a CDN (the staff network may not reach one,
    # and a page that holds tokens should not run scripts from elsewhere).
    app: FastAPI = FastAPIOffline(
        title="Coleta",
        version="0.1.0",
        description="Coleta domiciliar: registro de pacientes, agenda, confirmações e busca.",
        generate_unique_id_function=openapi.operation_id,
        swagger_ui_parameters={"validatorUrl": None},
    )
    # Innermost: a request waiting for its turn holds no thread and no connection.
    storage = get_storage_settings()
    app.add_middleware(AdmissionMiddleware, limit=storage.db_pool_size + storage.db_max_overflow)
    # Outside admission: requests waiting for their turn are staff waiting too.
    app.add_middleware(StaffLoadMiddleware, busy_from=settings.staff_busy_from, mark_seconds=settings.staff_busy_seconds)
    # Outside admission: a refused request never waits for a database slot.
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "If-None-Match"],
        # Content-Disposition: a download's file name (bulk exports) is readable by the web app.
        expose_headers=["X-Request-ID", "Retry-After", "Content-Disposition", "ETag"],
    )
    # Added last, so outermost: every response (CORS preflights included) carries the request id.
    app.add_middleware(logs.RequestContextMiddleware)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(patients.router)
    app.include_router(imports.router)
    app.include_router(admin.router)
    app.include_router(stats.router)
    app.include_router(jobs.router)
    app.include_router(cars.router)
    app.include_router(drivers.router)
    app.include_router(collectors.router)
    app.include_router(teams.router)
    app.include_router(visits_router.router)
    app.include_router(messages_router.router)
    app.include_router(duplicates_router.router)
    app.include_router(duplicates_router.merges)
    app.include_router(webhooks_router.router)
    app.include_router(units_router.router)
    app.include_router(confirmations_router.router)
    app.include_router(route_sheets_router.router)
    app.include_router(audit_router.router)
    openapi.install(app)
    # Last: its catch-all must not shadow an API route.
    web.install(app, settings.web_dist)
    return app


app = create_app()
