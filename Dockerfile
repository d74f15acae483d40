# One image for the API, the Celery worker and beat (docker-compose.yml picks the command).

# The staff web app, built once; only its static files reach the final image.
FROM node:20-bookworm-slim AS web
WORKDIR /web
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
COPY web/package.json web/package-lock.json web/.npmrc ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml ./
COPY api ./api
COPY indexing ./indexing
COPY messaging ./messaging
COPY storage ./storage
COPY workers ./workers
COPY mappings ./mappings
COPY observability ./observability
COPY alembic.ini ./
COPY --from=web /web/dist ./web/dist
RUN pip install . && useradd --system --uid 10001 coleta
USER coleta

EXPOSE 8000
CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
