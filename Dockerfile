# lgsp gateway image: build with the dev dependencies, run with production ones only.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY gateway gateway
COPY adapters adapters
COPY schemas schemas
COPY certs certs
COPY bench bench
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production LGSP_CONFIG=/etc/lgsp/lgsp.config.json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/schemas schemas
RUN mkdir -p /var/lib/lgsp && chown node:node /var/lib/lgsp
USER node
VOLUME ["/var/lib/lgsp"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM stops accepting, finishes in-flight requests and deliveries, and closes the store.
CMD ["node", "dist/gateway/cli.js", "start"]
