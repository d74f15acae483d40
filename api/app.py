"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.routers import admin, health, patients
from api.settings import get_settings


def create_app() -> FastAPI:
    """Build the app: routers, error handlers, CORS."""
    settings = get_settings()
    app = FastAPI(
        title="Coleta",
        version="0.1.0",
        description="Coleta domiciliar: registro de pacientes, agenda, confirmações e busca.",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(patients.router)
    app.include_router(admin.router)
    return app


app = create_app()
