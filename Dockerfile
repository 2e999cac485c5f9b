# claimwatch: one image for `run` (all-in-one, embedded Redis under /data), `poller` and `worker`.
#   docker build -t claimwatch .
#   docker run -d --name claimwatch -v claimwatch-data:/data -p 8787:8787 \
#     -e CLAIMWATCH_API_TOKEN=$(openssl rand -hex 24) claimwatch
#   docker exec claimwatch claimwatch status          # the same configuration, the same user
#   docker stop claimwatch                            # SIGTERM; stopped within Docker's 10 s
# Your own feeds/alerts: mount a TOML and name it in CLAIMWATCH_CONFIG (files separated by ":"):
#   docker run -v ./my.toml:/etc/claimwatch/local.toml:ro \
#     -e CLAIMWATCH_CONFIG=config/claimwatch.toml:config/docker.toml:/etc/claimwatch/local.toml claimwatch
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/claimwatch/bin:$PATH \
    CLAIMWATCH_CONFIG=config/claimwatch.toml:config/docker.toml \
    XDG_CACHE_HOME=/opt/cache

# tini as PID 1: passes SIGTERM on to `claimwatch run` and reaps the processes it leaves (RQ's
# scheduler forks), so `docker run` needs no --init.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies and code first, config last: editing config does not reinstall anything. A venv, so
# the image builds on any Debian-based Python (no pip into the system's Python: PEP 668).
COPY pyproject.toml README.md ./
COPY claimwatch ./claimwatch
COPY monitor ./monitor
COPY workers ./workers
# The word lists and the encoder's table as memory-mapped files (workers.wordlists), built into the
# image once (XDG_CACHE_HOME above) and shared by every worker: no build at each start, no 430 MB of
# dicts per worker.
RUN python3 -m venv /opt/claimwatch \
    && /opt/claimwatch/bin/pip install . \
    && rm -rf build *.egg-info \
    && /opt/claimwatch/bin/python -c "from workers.text import Analyzer; from workers import embed; Analyzer().load(); embed.load('use')"

COPY config ./config

# One user for everything: `run`, and whatever `docker exec` starts (status, alerts retry), which
# reach the embedded Redis's socket in /data (mode 700). A named volume takes /data's owner from
# the image; a bind-mounted folder must belong to uid 10001.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home claimwatch \
    && mkdir -p /data \
    && chown claimwatch:claimwatch /data
USER claimwatch

VOLUME /data
EXPOSE 8787
# `claimwatch run` stops on SIGTERM within service.stop_timeout (8 s in config/docker.toml)
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8787/healthz', timeout=4).status != 200)"]

ENTRYPOINT ["tini", "--", "claimwatch"]
CMD ["run"]
