# The two commands of the README, and the pieces they are made of.
.PHONY: dev test setup build-wasm lint bench cost

dev:        ## install what is missing, bring up the local stack, serve the API (workerd + Spin)
	scripts/dev.sh

test:       ## install what is missing, then run every check and test
	scripts/test.sh

setup:
	scripts/setup.sh

build-wasm:
	scripts/build-wasm.sh

lint:
	scripts/lint.sh

bench:      ## bundle sizes and /health, /ready throughput on workerd and wasmtime serve
	scripts/bench.sh

cost:       ## one ticket's whole life on workerd and wasmtime: round trips, commands, statements, rows per step
	scripts/cost.sh
