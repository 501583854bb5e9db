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

# ---- LBP + linear SVM fallback classifier (docs/LBP_SVM.md) ----
# The trainer and the benchmark are built with everything else so they never rot.
# make train-lbp retrains weights/emotion_lbp_svm.ferc from FER2013 (FER2013=path).
FER2013 ?= ../shared/data/fer2013
LBP_FEATS ?= --feat 8,1,8,8,4,4,2 --feat 8,2,8,8,4,4,2 --feat 8,3,8,8,4,4,2
LBP_C ?= 0.003,0.01
all: $(BUILD)/tools/train_svm $(BUILD)/bench/lbp_svm
$(BUILD)/tools/train_svm $(BUILD)/bench/lbp_svm: $(BUILD)/%: %.c libferc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< libferc.a -o $@ $(LDLIBS) $(LDFLAGS)
.PHONY: train-lbp bench-lbp
train-lbp: $(BUILD)/tools/train_svm
	$(BUILD)/tools/train_svm --data $(FER2013) --out $(BUILD)/lbp_svm $(LBP_FEATS) --C $(LBP_C)
	/usr/bin/python3 tools/pack_lbp_svm.py $(BUILD)/lbp_svm weights/emotion_lbp_svm.ferc
bench-lbp: $(BUILD)/bench/lbp_svm
	$(BUILD)/bench/lbp_svm weights/emotion_lbp_svm.ferc $(FER2013)
