# miros-rabbitmq testbed and project tasks. See README.md.
N ?= 3
BACKEND ?= local
S ?= mesh-ring
MIROSNET = node bin/mirosnet.mjs

.PHONY: cluster down status logs test bench scenario deps conformance typecheck

# npm packages, installed once (and again when the lockfile changes)
node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> installing npm packages"
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# N RabbitMQ nodes (installs rabbitmq-server from the distribution if missing and we are root)
cluster: deps
	$(MIROSNET) cluster up --nodes $(N) --backend $(BACKEND)

down: deps
	$(MIROSNET) cluster down --backend $(BACKEND)

status: deps
	$(MIROSNET) cluster status --backend $(BACKEND)

logs: deps
	$(MIROSNET) cluster logs $(NODE)

# every test: unit, conformance, integration (brings its own cluster up), e2e
test: deps
	$(MIROSNET) install-deps
	npm test

bench: deps
	npm run bench

typecheck: deps
	npx tsc --noEmit

scenario: deps
	node scenarios/$(S).mjs --nodes $(N) --backend $(BACKEND)
