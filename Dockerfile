# One image for the API, the Celery worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml ./
COPY api ./api
COPY indexing ./indexing
COPY storage ./storage
COPY workers ./workers
COPY mappings ./mappings
COPY observability ./observability
COPY alembic.ini ./
RUN pip install . && useradd --system --uid 10001 coleta
USER coleta

EXPOSE 8000
CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
