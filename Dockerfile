# syntax=docker/dockerfile:1
#
# dmap's container image: `dmap` (the coordinator, and `dmap serve`, the Step Functions API)
# and `dmap-worker`, on Debian slim, as a non-root user. Build it from the repository root:
#
#     docker build -t dmap:0.1.0 .
#
# The Kubernetes manifests refer to it as dmap:<version>, the workspace version in Cargo.toml,
# which the version label below repeats. coordinator/tests/dockerfile.rs lints this file
# (pinned tags, non-root user, exec-form entry point, the label against Cargo.toml, COPY
# sources against the repository and .dockerignore) and runs the build stage's cargo command
# on the same sources, then checks the binaries it produces are the ones copied below.

# ---- build: both binaries, optimised and stripped (Cargo.toml's `dist` profile) ----
# Pinned: the workspace needs Rust >= 1.89 (edition 2024). bookworm, like the runtime stage,
# so the binaries link against the glibc they run with. The C dependencies (aws-lc-sys with its
# pregenerated bindings, ring, zstd-sys, libmimalloc-sys) build with the image's gcc: no cmake,
# clang or nasm needed on x86_64 or aarch64.
FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
# Cargo loads every workspace member's manifest and targets, so all five are copied (bench and
# testkit are not compiled). Only these paths: documentation and examples do not invalidate the
# build layer.
COPY Cargo.toml Cargo.lock ./
COPY shared shared
COPY worker worker
COPY coordinator coordinator
COPY testkit testkit
COPY bench bench
# The one build command (the test runs exactly these arguments). --locked: Cargo.lock as
# committed. The registry cache mount keeps downloaded crates between builds; the target
# directory is not cache-mounted, so the binaries stay in this stage's filesystem for COPY.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --profile dist --locked -p coordinator -p worker --bin dmap --bin dmap-worker

# ---- runtime ----
FROM docker.io/library/debian:bookworm-slim AS runtime
# ca-certificates: TLS to S3, NATS and HTTP Task endpoints (rustls reads the system roots).
# tini: PID 1 that forwards SIGTERM (dmap-worker drains on it) and reaps the Lambda handler
# processes' own children. python3: Python Lambda handlers run through dmap_runtime.py.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tini python3 \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid/gid, so that Kubernetes' runAsNonRoot can verify it and volumes can be
# made writable for it (fsGroup 10001).
RUN groupadd --system --gid 10001 dmap \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/dmap --create-home \
        --shell /usr/sbin/nologin dmap
COPY --from=build /src/target/dist/dmap /src/target/dist/dmap-worker /usr/local/bin/
# The Python Lambda runtime shim (examples/python/README.md): a functions file points at it, e.g.
# command = ["python3", "/opt/dmap/python/dmap_runtime.py", "price:price"].
COPY examples/python/dmap_runtime.py /opt/dmap/python/dmap_runtime.py
LABEL org.opencontainers.image.title="dmap" \
      org.opencontainers.image.description="Runs AWS Step Functions state machines, Distributed Map included: dmap (coordinator and Step Functions API server) and dmap-worker" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.source="https://example.invalid/dmap" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 10001:10001
# The handler modules are imported from the working directory (dmap_runtime.py).
WORKDIR /home/dmap
# --listen 0.0.0.0:9090 serves /healthz and /metrics (both binaries); not listening by default.
EXPOSE 9090
# `dmap serve --listen 0.0.0.0:8083`: the Step Functions API, /healthz and /metrics.
EXPOSE 8083
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["dmap-worker", "--help"]
