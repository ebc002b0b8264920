# Gatehouse in a small runtime image: one static-ish binary, a non-root user,
# and a health check that needs no extra tools.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
RUN cargo build --release --locked --bin gatehouse

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/gatehouse gatehouse \
 && mkdir -p /var/lib/gatehouse /etc/gatehouse \
 && chown gatehouse:gatehouse /var/lib/gatehouse
COPY --from=build /src/target/release/gatehouse /usr/local/bin/gatehouse
USER gatehouse
WORKDIR /var/lib/gatehouse
ENV GATEHOUSE_LISTEN=0.0.0.0:8080 \
    GATEHOUSE_DATABASE_URL=sqlite:///var/lib/gatehouse/gatehouse.db \
    GATEHOUSE_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/gatehouse"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["gatehouse", "healthcheck"]
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
