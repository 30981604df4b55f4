# Learnloop server image.
# Default command: the web server. The same image runs `learnloop worker` and `learnloop migrate`
# (see compose.yaml and docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1

# An unprivileged user owns nothing but the data directory.
RUN groupadd --system --gid 10001 learnloop \
    && useradd --system --uid 10001 --gid learnloop --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin learnloop

WORKDIR /app

# Dependencies first, exactly as locked (hashes checked): this layer is reused until the lock changes.
COPY requirements.lock ./
RUN pip install uv \
    && uv pip sync --system --require-hashes requirements.lock

# The application itself, without touching the locked dependencies.
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY pwa/ pwa/
COPY config/ config/
RUN uv pip install --system --no-deps . \
    && mkdir -p /data/media \
    && chown -R learnloop:learnloop /data

# The wheel carries config/default.toml as backend/default.toml (pyproject force-include).
ENV LEARNLOOP_SERVER_DATA_DIR=/data \
    LEARNLOOP_SERVER_MEDIA_DIR=/data/media

USER learnloop
EXPOSE 8000

CMD ["learnloop", "serve", "--host", "0.0.0.0", "--port", "8000"]
