# keystead: a small image for one instance. Build: docker build -t keystead .
# Run (PostgreSQL): docker run -e KEYSTEAD_ISSUER=https://id.example.com \
#   -e KEYSTEAD_DATABASE_URL=postgresql+asyncpg://keystead:...@db/keystead \
#   -e KEYSTEAD_SECRET_KEY=... -p 8000:8000 keystead
# See docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Pinned, hash-checked dependencies first: this layer is reused until the lock file changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /data keystead \
    && mkdir -p /data && chown keystead /data

USER keystead
# /data: the SQLite database and secret.key when no database URL and secret key are given.
ENV KEYSTEAD_DATA_DIR=/data \
    KEYSTEAD_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# Migrations and first signing keys run once, under a lock, before the workers start.
CMD ["keystead", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
