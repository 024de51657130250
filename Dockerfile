# syntax=docker/dockerfile:1
# Waakvlam: one image for both the web app (`waakvlam web`, the default) and the Temporal worker
# (`waakvlam worker`). No secret is baked in: every setting arrives at run time as a WAAKVLAM_*
# environment variable (see docker-compose.yml and docs/deployment.md).

# --- build: install the project and its dependencies into a self-contained virtualenv ---------
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# .dockerignore keeps the local venv, var/, caches, tests and .env out of this copy.
COPY . .
# A regular (not editable) install: the runtime stage needs only /opt/venv, not the sources.
RUN pip install --upgrade pip \
    && pip install . \
    && waakvlam --help > /dev/null

# --- runtime: the virtualenv on a clean slim image, run as an unprivileged user --------------
FROM python:3.11-slim-bookworm AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WAAKVLAM_ENVIRONMENT=production \
    WAAKVLAM_DATA_DIR=/var/lib/waakvlam \
    WAAKVLAM_WEB_HOST=0.0.0.0 \
    WAAKVLAM_WEB_PORT=8000

RUN groupadd --system --gid 10001 waakvlam \
    && useradd --system --uid 10001 --gid waakvlam --home-dir /var/lib/waakvlam \
        --no-create-home --shell /usr/sbin/nologin waakvlam \
    && install --directory --owner waakvlam --group waakvlam --mode 0750 /var/lib/waakvlam

COPY --from=build /opt/venv /opt/venv

USER waakvlam:waakvlam
WORKDIR /var/lib/waakvlam

EXPOSE 8000

# No HEALTHCHECK here: the same image runs the worker, which serves no HTTP. The compose file
# gives each service its own check.
CMD ["waakvlam", "web"]
