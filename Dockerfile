# lgsp gateway image: build with the dev dependencies, run with production ones only.
#
#   docker build -t lgsp .
#   docker run -p 8080:8080 lgsp                        # the demo (simulators + gateway)
#   docker run -p 8080:8080 -v /srv/lgsp:/var/lib/lgsp lgsp start   # production: /srv/lgsp/lgsp.config.json
#   docker exec <container> lgsp queues --config /var/lib/lgsp/data/lgsp.demo.json
#
# Everything the gateway writes by default (./data/lgsp.db, ./data/pki, the catalogue
# snapshot, the demo's config) is relative to the working folder, which is the volume.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY gateway gateway
COPY adapters adapters
COPY schemas schemas
COPY certs certs
COPY bench bench
# --ignore-scripts: `prepare` would build before the sources are complete; the build runs next.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3 && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    LGSP_CONFIG=/var/lib/lgsp/lgsp.config.json \
    LGSP_HTTP_HOST=0.0.0.0 \
    LGSP_HTTP_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/schemas schemas
RUN ln -s /app/dist/gateway/cli.js /usr/local/bin/lgsp && chmod 755 /app/dist/gateway/cli.js \
    && mkdir -p /var/lib/lgsp && chown node:node /var/lib/lgsp
USER node
# The working folder is the volume: the defaults (./data/…) land in it, owned by `node`.
WORKDIR /var/lib/lgsp
VOLUME ["/var/lib/lgsp"]
EXPOSE 8080
# Inside the container the gateway listens on 0.0.0.0 (LGSP_HTTP_HOST), so the published port reaches it.
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM stops accepting, finishes in-flight requests and deliveries, and closes the store.
ENTRYPOINT ["node", "/app/dist/gateway/cli.js"]
CMD ["demo"]
