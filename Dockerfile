# Slotbot: one image for `serve` (the default) and `worker` (compose.yaml, deploy/kubernetes/).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY cards ./cards
COPY manifest ./manifest
# installed in place: the app reads its manifest templates beside its code, and the chat
# platforms are found through the package's entry points
RUN pip install -c constraints.txt -e . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin slotbot \
    && mkdir /data && chown slotbot /data

USER 10001
ENV BOT_HOST=0.0.0.0 \
    BOT_PORT=3978 \
    BOT_STORE_URL=sqlite:////data/slotbot.db
VOLUME ["/data"]
EXPOSE 3978

# the app's own liveness route; `python -m bot worker` (no port) is checked by its orchestrator
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=2).status != 200)"]

CMD ["python", "-m", "bot", "serve"]
