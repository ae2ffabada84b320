# syntax=docker/dockerfile:1
# CODE (Continuous Operations & Deployment Engine) container image.
#
# Stage 1 builds the project wheel and installs it with its fully pinned runtime dependencies
# (requirements.lock) into a self-contained directory. Stage 2 copies that directory into a
# distroless Python image that has no shell and no package manager and runs as a non-root user.
# The builder's Python minor version and Debian release match the runtime image (3.11, Debian 12)
# so compiled wheels (psycopg, cryptography, argon2) load unchanged.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/python3-debian12:nonroot

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build

# Dependencies first: this layer is reused until requirements.lock changes.
COPY requirements.lock ./
RUN python -m pip install --no-cache-dir --target /install -r requirements.lock

# Then the project itself, as a wheel, without touching the pinned dependency set.
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /build/dist . \
    && python -m pip install --no-cache-dir --no-deps --target /install /build/dist/*.whl \
    && mkdir -p /data

FROM ${RUNTIME_IMAGE} AS runtime

LABEL org.opencontainers.image.title="code-engine" \
      org.opencontainers.image.description="CODE: Continuous Operations & Deployment Engine" \
      org.opencontainers.image.source="https://github.com/code-engine/code-engine" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONPATH=/app/site-packages \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CODE_DATA_DIR=/data \
    CODE_LOG_FORMAT=json

COPY --from=builder /install /app/site-packages
COPY --from=builder --chown=65532:65532 /data /data

WORKDIR /app
# distroless "nonroot" user, numeric so Kubernetes can verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080

# No HEALTHCHECK: the distroless image has no shell or curl. Kubernetes probes /healthz and
# /readyz, and docker-compose.yml checks /healthz with the image's own Python.
ENTRYPOINT ["/usr/bin/python3", "-m", "code_engine", "server", "--host", "0.0.0.0", "--port", "8080"]
