# miros-rabbitmq testbed and project tasks. See README.md.
N ?= 3
BACKEND ?= local
S ?= mesh-ring
SEEDS ?= 0..99
MIROSNET = node bin/mirosnet.mjs

.PHONY: help cluster down status observe logs fault test bench scenario scenario-exists deps typecheck sim

# the default target: `make` alone lists the targets and installs nothing
help: ## list the targets
	@echo "miros-rabbitmq: make TARGET [VAR=value ...]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: N=$(N) BACKEND=$(BACKEND) TOPOLOGY= S=$(S) NODE= KIND= A= B= DIR= (scenario: CYCLES SEED FAULTS INSTANCES; sim: SEEDS FAULTS PROGRAM)"

# npm packages, installed once (and again when the lockfile changes)
node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> installing npm packages"
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json ## install the npm packages (npm ci, when the lockfile changed)

# N RabbitMQ nodes (installs rabbitmq-server from the distribution if missing and we are root)
# TOPOLOGY=clustered: the nodes form one RabbitMQ cluster (default: mesh, independent brokers)
cluster: deps ## N RabbitMQ nodes (N=3 BACKEND=local|netns|docker TOPOLOGY=mesh|clustered)
	$(MIROSNET) cluster up --nodes $(N) --backend $(BACKEND)$(if $(TOPOLOGY), --topology $(TOPOLOGY))

down: deps ## stop every node
	$(MIROSNET) cluster down --backend $(BACKEND)

observe: deps ## Prometheus scraping the nodes and instances (mirosnet observe; --stop ends it)
	$(MIROSNET) observe $(if $(DIR),--dir $(DIR))

status: deps ## health of the nodes
	$(MIROSNET) cluster status --backend $(BACKEND)

logs: deps ## a node's RabbitMQ log (NODE=n1; every node without it)
	$(MIROSNET) cluster logs $(NODE)

# make fault KIND=pause-broker NODE=n2 | KIND=partition A=n1 B=n2 | KIND=heal [A= [B=]] | KIND=list [DIR=path]
# the kinds and their arguments: the fault catalogue (ops/faults/catalogue.ts, docs/faults.md,
# mirosnet fault --help); network kinds (partition isolate heal and the toxics) need netns or docker
# toxics: KIND=latency NODE=n2 A=200 [B=jitter] | bandwidth NODE=n2 A=kbit/s | stall | reset-peer
# KIND=kill-instance|restart-instance NODE=<instance of the scenario running on the cluster>
fault: deps ## inject a fault (KIND=pause-broker NODE=n2, KIND=partition A=n1 B=n2, KIND=heal)
	$(MIROSNET) fault $(KIND) $(NODE) $(A) $(B) $(if $(DIR),--dir $(DIR)) $(if $(OBSERVE),--observe)

# every test: unit, conformance, packaging and snippets, integration (brings its own cluster up), browser
test: deps ## every test (installs the test packages as root; brings its own cluster up)
	$(MIROSNET) install-deps --test
	npm test

sim: deps ## the simulation's fault search, no brokers (SEEDS=0..999 FAULTS=all|kind,kind PROGRAM=module)
	$(MIROSNET) sim --seeds $(SEEDS) --faults $(or $(FAULTS),all) $(if $(PROGRAM),--program $(PROGRAM))

bench: deps ## the benchmarks
	npm run bench

typecheck: deps ## tsc --noEmit
	npx tsc --noEmit

# make scenario S=NAME [N=3] [BACKEND=local]: a typo fails at once, naming the scenarios
comma := ,
empty :=
space := $(empty) $(empty)
SCENARIO_NAMES = $(subst $(space),$(comma)$(space),$(sort $(basename $(notdir $(wildcard scenarios/*.mjs)))))

scenario-exists:
	@test -f scenarios/$(S).mjs || { echo "no scenario '$(S)'; the scenarios are: $(SCENARIO_NAMES) (make scenario S=NAME)" >&2; exit 2; }

# chaos knobs (and any scenario's own): CYCLES SEED FAULTS INSTANCES; TOPOLOGY is passed on when set;
# OBSERVE=1: --observe (Prometheus scrapes the nodes and the run's instances: mirosnet observe)
# make scenario S=chaos N=3 BACKEND=netns CYCLES=100 SEED=7 [FAULTS=partition,kill-broker | FAULTS=all] [INSTANCES=2]
# S=scale: INSTANCES=M (default 50) instance processes over the N brokers
SCENARIO_KNOBS = $(if $(CYCLES),--cycles $(CYCLES)) $(if $(SEED),--seed $(SEED)) $(if $(FAULTS),--faults $(FAULTS)) $(if $(INSTANCES),--instances $(INSTANCES)) $(if $(TOPOLOGY),--topology $(TOPOLOGY)) $(if $(DIR),--dir $(DIR)) $(if $(OBSERVE),--observe)

scenario: scenario-exists deps ## run a scenario (S=mesh-ring N=3 BACKEND=local)
	node scenarios/$(S).mjs --nodes $(N) --backend $(BACKEND) $(SCENARIO_KNOBS)
