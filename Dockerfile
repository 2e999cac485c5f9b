# claimwatch: one image for `run` (all-in-one, embedded Redis under /data), `poller` and `worker`.
#   docker build -t claimwatch .
#   docker run -v claimwatch-data:/data -p 8787:8787 claimwatch
# Your own feeds/alerts: mount a TOML over the defaults, e.g.
#   docker run -v ./my.toml:/etc/claimwatch/local.toml:ro claimwatch \
#     run --config config/claimwatch.toml --config config/docker.toml --config /etc/claimwatch/local.toml
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies and code first, config last: editing config does not reinstall anything.
COPY pyproject.toml README.md ./
COPY claimwatch ./claimwatch
COPY monitor ./monitor
COPY workers ./workers
# The word lists and the encoder's table as memory-mapped files (workers.wordlists), built into the
# image once and shared by every worker: no build at each start, no 430 MB of dicts per worker.
ENV XDG_CACHE_HOME=/opt/cache
RUN pip install . && rm -rf build *.egg-info \
    && python -c "from workers.text import Analyzer; from workers import embed; Analyzer().load(); embed.load('use')"

COPY config ./config

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home claimwatch \
    && mkdir -p /data \
    && chown claimwatch:claimwatch /data
USER claimwatch

VOLUME /data
EXPOSE 8787

ENTRYPOINT ["claimwatch"]
CMD ["run", "--config", "config/claimwatch.toml", "--config", "config/docker.toml"]
