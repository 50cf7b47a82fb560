# The browser app is built with Node 20 (Vite 8 needs it; Debian bookworm ships Node 18).
FROM node:20-bookworm-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends graphviz librsvg2-bin \
    fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir .
COPY --from=frontend /app/frontend/dist ./frontend/dist
ENV GRADTRACE_FRONTEND_DIST=/app/frontend/dist OPENBLAS_NUM_THREADS=1
EXPOSE 8000
CMD ["sh", "-c", "gradtrace serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
