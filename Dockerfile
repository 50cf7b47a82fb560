FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends graphviz librsvg2-bin fonts-dejavu-core nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY frontend ./frontend
RUN pip install --no-cache-dir . \
    && if [ -f frontend/package.json ]; then cd frontend && npm ci && npm run build; fi
ENV GRADTRACE_HOST=0.0.0.0 GRADTRACE_FRONTEND_DIST=/app/frontend/dist OPENBLAS_NUM_THREADS=1
EXPOSE 8000
CMD ["sh", "-c", "gradtrace serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
