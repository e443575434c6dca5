# syntax=docker/dockerfile:1
#
# A provider image: builds one example or application of this workspace and
# the `exhook` tool (for the health check) from the repository and crates.io,
# then copies both into a minimal, non-root runtime image.
#
#   docker build -t exhook-provider .                                   # examples/emqx_demo.rs
#   docker build --build-arg APP=acl -t exhook-acl .                     # another example
#   docker build --build-arg PACKAGE=my-provider --build-arg KIND=bin --build-arg APP=my-provider -t my-provider .
#   docker run -p 9000:9000 -p 9100:9100 exhook-provider

ARG RUST_VERSION=1.88

FROM rust:${RUST_VERSION}-bookworm AS build
# What to build: `cargo build -p $PACKAGE --$KIND $APP` (KIND is example or bin).
ARG PACKAGE=exhook-examples
ARG KIND=example
ARG APP=emqx_demo
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p "$PACKAGE" --"$KIND" "$APP" -p exhook-cli --bin exhook \
 && mkdir -p /out \
 && if [ "$KIND" = example ]; then cp "target/release/examples/$APP" /out/provider; else cp "target/release/$APP" /out/provider; fi \
 && cp target/release/exhook /out/exhook

# glibc and libgcc only (rustls needs no OpenSSL); user 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/provider /usr/local/bin/provider
COPY --from=build /out/exhook /usr/local/bin/exhook
USER 65532:65532
ENV EXHOOK_LISTEN=0.0.0.0:9000 \
    EXHOOK_METRICS_LISTEN=0.0.0.0:9100
EXPOSE 9000 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/exhook", "probe", "--health-only", "--timeout", "2s", "http://127.0.0.1:9000"]
ENTRYPOINT ["/usr/local/bin/provider"]
