# ferc build. Sources are found by folder, so a new kernel or op needs no edit here:
#   kernels/*_avx2.c   compiled with AVX2+FMA flags, kernels/*_avx512.c with AVX-512 flags,
#   everything else in kernels/ nn/ detect/ with the baseline flags (any x86-64 or other CPU).
# Targets: all (default), test, asan, fuzz, bench, eval, install, deps, clean.

CC       ?= gcc
PREFIX   ?= /usr/local
BUILD    ?= build
OPT      ?= -O2
CFLAGS_BASE = -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -fPIC -fopenmp \
              -D_POSIX_C_SOURCE=200809L -Iinclude -I. $(OPT) -g
CFLAGS   ?=
LDLIBS   = -lm -fopenmp
AVX2_FLAGS   = -mavx2 -mfma -mf16c
AVX512_FLAGS = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c

# Optional comparison backend: make OPENBLAS=1 (never required).
ifeq ($(OPENBLAS),1)
CFLAGS_BASE += -DFERC_WITH_OPENBLAS $(shell pkg-config --cflags openblas 2>/dev/null)
LDLIBS      += $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif

LIB_SRC  = $(sort $(wildcard kernels/*.c nn/*.c detect/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(sort $(wildcard tests/test_*.c))
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread)

.PHONY: all test asan fuzz bench eval install deps clean check-deps

all: libferc.a libferc.so ferc

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(AVX2_FLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(AVX512_FLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -MMD -MP -c $< -o $@

libferc.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
libferc.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS) $(LDFLAGS)
ferc: $(BUILD)/tools/ferc.o libferc.a
	$(CC) -o $@ $^ $(LDLIBS) $(LDFLAGS)

$(BUILD)/tests/%: tests/%.c tests/testutil.h libferc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -Itests $< libferc.a -o $@ $(CHECK_LIBS) $(LDLIBS) $(LDFLAGS)

# The suite runs every test binary once per ISA path this CPU has (FERC_ISA forces the
# scalar and AVX2 paths too, so machines without AVX-512 are covered on this one).
test: check-deps all $(TEST_BIN)
	@FERC_BUILD=$(BUILD) sh tests/run.sh $(TEST_BIN)

asan:
	$(MAKE) BUILD=build/asan OPT=-O1 \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

valgrind: all $(TEST_BIN)
	@FERC_VALGRIND=1 sh tests/run.sh $(TEST_BIN)

# Benchmarks (docs/performance.md): kernels against the FMA peak, the scalar reference and
# im2col + OpenBLAS; models against PyTorch and OpenCV DNN. Bench programs link OpenBLAS
# directly; the library never needs it. Figures on screen and in $(BUILD)/bench.json.
BLAS_CFLAGS = $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
$(BUILD)/bench/%: bench/%.c libferc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(BLAS_CFLAGS) $(CFLAGS) $< libferc.a -o $@ $(BLAS_LIBS) $(LDLIBS) $(LDFLAGS)

bench: all $(BUILD)/bench/bench_kernels $(BUILD)/bench/bench_model
	$(BUILD)/bench/bench_kernels --json $(BUILD)/bench_layers.json
	@echo "== the same against OpenBLAS's AVX-512 kernel (OPENBLAS_CORETYPE=SkylakeX; bench only)"
	-OPENBLAS_CORETYPE=SkylakeX $(BUILD)/bench/bench_kernels --no-scalar --json $(BUILD)/bench_layers_skylakex.json
	/usr/bin/python3 bench/bench_models.py --build $(BUILD) $(BENCH_MODELS)

fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

check-deps:
	@sh tools/install-deps.sh --check-only >/dev/null 2>&1 || sh tools/install-deps.sh

deps:
	sh tools/install-deps.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	           $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/ferc/weights
	install -m 644 libferc.a libferc.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/ferc.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 ferc $(DESTDIR)$(PREFIX)/bin/
	-install -m 644 weights/*.ferc $(DESTDIR)$(PREFIX)/share/ferc/weights/ 2>/dev/null
	sed -e 's|@PREFIX@|$(PREFIX)|g' ferc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ferc.pc

clean:
	rm -rf build libferc.a libferc.so ferc

-include $(LIB_OBJ:.o=.d) $(BUILD)/tools/ferc.d
