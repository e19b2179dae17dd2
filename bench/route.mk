# Route lookup micro-benchmark (bench/route.c), built with -O2 against the
# route/ sources only: `make bench-route`.
BENCH_ROUTE_SRCS := bench/route.c $(wildcard src/route/*.c) src/http/h1_parser.c

.PHONY: bench-route
bench-route: build/bench/route
	build/bench/route

build/bench/route: $(BENCH_ROUTE_SRCS) $(wildcard src/route/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -Isrc -o $@ $(BENCH_ROUTE_SRCS) $(PKG_LIBS) -lpthread
