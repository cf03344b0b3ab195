# miros-rabbitmq testbed and project tasks. See README.md.
N ?= 3
BACKEND ?= local
S ?= mesh-ring
MIROSNET = node bin/mirosnet.mjs

.PHONY: cluster down status observe logs fault test bench scenario scenario-exists deps conformance typecheck

# npm packages, installed once (and again when the lockfile changes)
node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> installing npm packages"
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# N RabbitMQ nodes (installs rabbitmq-server from the distribution if missing and we are root)
# TOPOLOGY=clustered: the nodes form one RabbitMQ cluster (default: mesh, independent brokers)
cluster: deps
	$(MIROSNET) cluster up --nodes $(N) --backend $(BACKEND)$(if $(TOPOLOGY), --topology $(TOPOLOGY))

down: deps
	$(MIROSNET) cluster down --backend $(BACKEND)

observe: deps  # Prometheus scraping the nodes and instances (mirosnet observe; --stop ends it)
	$(MIROSNET) observe $(if $(DIR),--dir $(DIR))

status: deps
	$(MIROSNET) cluster status --backend $(BACKEND)

logs: deps
	$(MIROSNET) cluster logs $(NODE)

# make fault KIND=pause-broker NODE=n2 | KIND=partition A=n1 B=n2 | KIND=heal [A= [B=]] | KIND=list [DIR=path]
# the kinds and their arguments: the fault catalogue (ops/faults/catalogue.ts, docs/faults.md,
# mirosnet fault --help); network kinds (partition isolate heal and the toxics) need netns or docker
# toxics: KIND=latency NODE=n2 A=200 [B=jitter] | bandwidth NODE=n2 A=kbit/s | stall | reset-peer
# KIND=kill-instance|restart-instance NODE=<instance of the scenario running on the cluster>
fault: deps
	$(MIROSNET) fault $(KIND) $(NODE) $(A) $(B) $(if $(DIR),--dir $(DIR)) $(if $(OBSERVE),--observe)

# every test: unit, conformance, integration (brings its own cluster up), e2e
test: deps
	$(MIROSNET) install-deps --test
	npm test

bench: deps
	npm run bench

typecheck: deps
	npx tsc --noEmit

# make scenario S=NAME [N=3] [BACKEND=local]: a typo fails at once, naming the scenarios
comma := ,
empty :=
space := $(empty) $(empty)
SCENARIO_NAMES = $(subst $(space),$(comma)$(space),$(sort $(basename $(notdir $(wildcard scenarios/*.mjs)))))

scenario-exists:
	@test -f scenarios/$(S).mjs || { echo "no scenario '$(S)'; the scenarios are: $(SCENARIO_NAMES) (make scenario S=NAME)" >&2; exit 2; }

# chaos knobs (and any scenario's own): CYCLES SEED FAULTS INSTANCES; TOPOLOGY is passed on when set
# make scenario S=chaos N=3 BACKEND=netns CYCLES=100 SEED=7 [FAULTS=partition,kill-broker | FAULTS=all] [INSTANCES=2]
# S=scale: INSTANCES=M (default 50) instance processes over the N brokers
SCENARIO_KNOBS = $(if $(CYCLES),--cycles $(CYCLES)) $(if $(SEED),--seed $(SEED)) $(if $(FAULTS),--faults $(FAULTS)) $(if $(INSTANCES),--instances $(INSTANCES)) $(if $(TOPOLOGY),--topology $(TOPOLOGY)) $(if $(DIR),--dir $(DIR))

scenario: scenario-exists deps
	node scenarios/$(S).mjs --nodes $(N) --backend $(BACKEND) $(SCENARIO_KNOBS)
