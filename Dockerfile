# grym-perf: one image for the CLI, workers, the dashboard and the mock LLM.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY test-plans ./test-plans
# The default --out (reports/latest) is under /app: it must be the node user's to write.
RUN mkdir -p /app/reports /reports && chown node:node /app/reports /reports
USER node
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["--help"]
