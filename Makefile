# ferc build. Sources are found by folder, so a new file needs no edit here. The folders:
#   kernels/        compute kernels; *_avx2.c built with AVX2+FMA flags, *_avx512.c with AVX-512
#                   flags, *_avxvnni.c and *_avx512vnni.c with those plus VNNI (int8 bodies),
#                   the rest with the baseline flags (any x86-64 or other CPU)
#   nn/             the engine: weight file, graph, ops, errors            -> libferc
#   detect/         face detectors (SSD, cascades), boxes, the tracker      -> libferc
#   detect/image/   images: decode, Y4M, gray, resize, CLAHE, crops, alignment -> libferc
#   api/            the public detect -> crop -> classify pipeline          -> libferc
#   include/        the one public header, ferc.h
#   tools/cli/      the `ferc` command                                      -> ./ferc
#   tools/model/    training, export, conversion (Python; train_svm.c built here)
#   tests/          check tests (tests/test_*.c), fixtures, tests/gen/ the reference generators
#   bench/          benchmarks and measurement scripts
#   examples/       programs that use only ferc.h (run by make test)
#   fuzz/           libFuzzer targets (make fuzz)
#   weights/        the shipped models; docs/ the documentation
# Targets: all (default), demo, test, test-browser, asan, tsan, valgrind, valgrind-cli, valgrind-serve, fuzz, bench,
#   eval, install, deps, deps-tools,
#   train-lbp, bench-lbp, clean.

CC       ?= gcc
PREFIX   ?= /usr/local
BUILD    ?= build
OPT      ?= -O2
OPENMP   ?= -fopenmp
LIBDIR   ?= .
CFLAGS_BASE = -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -fPIC $(OPENMP) \
              -D_POSIX_C_SOURCE=200809L -Iinclude -I. $(OPT) -g
CFLAGS   ?=
LDLIBS   = -lm $(OPENMP)
AVX2_FLAGS   = -mavx2 -mfma -mf16c
AVX512_FLAGS = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c
AVXVNNI_FLAGS    = $(AVX2_FLAGS) -mavxvnni
AVX512VNNI_FLAGS = $(AVX512_FLAGS) -mavx512vnni

# Optional comparison backend: make OPENBLAS=1 (never required).
ifeq ($(OPENBLAS),1)
CFLAGS_BASE += -DFERC_WITH_OPENBLAS $(shell pkg-config --cflags openblas 2>/dev/null)
LDLIBS      += $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif

LIB_SRC  = $(sort $(wildcard kernels/*.c nn/*.c detect/*.c detect/image/*.c api/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(sort $(wildcard tests/test_*.c))
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lpthread)

.PHONY: all test test-browser asan tsan valgrind valgrind-cli valgrind-serve fuzz bench eval demo install deps deps-tools clean check-deps python test-python

LIBA = $(LIBDIR)/libferc.a

all: $(LIBA) libferc.so ferc $(BUILD)/tools/model/train_svm $(BUILD)/bench/lbp_svm

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(AVX2_FLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(AVX512_FLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%_avxvnni.o: %_avxvnni.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(AVXVNNI_FLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%_avx512vnni.o: %_avx512vnni.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(AVX512VNNI_FLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -MMD -MP -c $< -o $@

# The install prefix is the last place ferc_find_weights looks (api/weights.c).
$(BUILD)/api/weights.o: CFLAGS_BASE += -DFERC_PREFIX='"$(PREFIX)"'

# stb_image_write's JPEG bit writer shifts bits into an int's sign bit (stb_image_write.h,
# Debian 1.16, line 1263), undefined in C and fatal under make asan's UBSan; -fwrapv defines it
# as the two's-complement wrap every compiler produces anyway, so the bytes written are unchanged.
$(BUILD)/detect/image/stb_impl.o: CFLAGS_BASE += -fwrapv
$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
libferc.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS) $(LDFLAGS)
CLI_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard tools/cli/*.c)))
# ferc serve's HTTP comes from libmicrohttpd: linked into the command only, never the library.
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   = $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) -lpthread
ferc: $(CLI_OBJ) $(LIBA)
	$(CC) -o $@ $^ $(MHD_LIBS) $(LDLIBS) $(LDFLAGS)
# The command as tests/test_cli.c runs it: built with this build's flags (ASan in make asan).
$(BUILD)/ferc: $(CLI_OBJ) $(LIBA)
	$(CC) -o $@ $^ $(MHD_LIBS) $(LDLIBS) $(LDFLAGS)
# The page of ferc serve, built into the binary as the bytes of tools/cli/serve_page.html.
$(BUILD)/tools/cli/serve_page.inc: tools/cli/serve_page.html
	@mkdir -p $(dir $@)
	xxd -i < $< > $@
$(BUILD)/tools/cli/serve.o: $(BUILD)/tools/cli/serve_page.inc
$(BUILD)/tools/cli/serve.o: CFLAGS_BASE += -I$(BUILD)/tools/cli $(MHD_CFLAGS)

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -Itests $< $(LIBA) -o $@ $(CHECK_LIBS) $(LDLIBS) $(LDFLAGS)

# Example programs use only the public header; the tests run them.
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
$(BUILD)/examples/%: examples/%.c include/ferc.h $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< $(LIBA) -o $@ $(LDLIBS) $(LDFLAGS)

# The suite runs every test binary once per ISA path this CPU has (FERC_ISA forces the
# scalar and AVX2 paths too, so machines without AVX-512 are covered on this one). The
# tree's own libferc.so is brought up to date too (in the default build only: sanitizer
# builds must not replace it): tests/python/test_package.py pip-installs the package, which
# finds that one.
TREE_LIB = $(if $(filter build,$(BUILD)),libferc.so)
test: check-deps $(LIBA) $(TEST_BIN) $(BUILD)/ferc $(EXAMPLES) $(BUILD)/libferc.so $(TREE_LIB)
	@FERC_BUILD=$(BUILD) sh tests/run.sh $(TEST_BIN)
	/usr/bin/python3 tests/serve/test_serve.py --ferc $(BUILD)/ferc
	@if /usr/bin/python3 -c 'import pytest' 2>/dev/null; then FERC_BUILD=$(BUILD) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/test_trace.py; \
	 else echo "tests/test_trace.py skipped: no pytest for /usr/bin/python3 (make deps-tools)"; fi
	@if /usr/bin/python3 -c "import pytest, onnx, h5py" 2>/dev/null; then \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/test_convert.py; \
	else echo "tests/test_convert.py skipped: needs python3-pytest, python3-onnx, python3-h5py (make deps-tools)"; fi
	@if /usr/bin/python3 -c "import pytest, torch, cv2" 2>/dev/null; then \
	  FERC_BUILD=$(BUILD) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/test_fer2013.py tests/test_train.py tests/test_ensemble.py; \
	else echo "tests/test_fer2013.py, tests/test_train.py, tests/test_ensemble.py skipped: need python3-pytest, python3-torch, python3-opencv (make deps-tools)"; fi
	@FERC_BUILD=$(BUILD) sh tests/python/run.sh

# The Python package (python/, docs/python.md): pytest against this build's libferc.so.
$(BUILD)/libferc.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS) $(LDFLAGS)
test-python: $(BUILD)/libferc.so $(BUILD)/ferc $(TREE_LIB)
	@FERC_BUILD=$(BUILD) sh tests/python/run.sh
# pip install of python/ with PYTHON's pip (a venv's python: into the venv; the system's
# /usr/bin/python3: system-wide, which Debian's pip allows with --break-system-packages).
PYTHON ?= /usr/bin/python3
python: all
	$(PYTHON) -m pip install --no-build-isolation --no-index $(PIP_FLAGS) \
	  $$($(PYTHON) -c 'import sys; print("" if sys.prefix != sys.base_prefix else "--break-system-packages")') ./python

# The page of ferc serve in headless Chromium (Selenium, a fake camera); screenshots in
# $(BUILD)/serve/. Too slow for make test; .ci/run runs it.
test-browser: $(BUILD)/ferc
	sh tools/install-deps.sh --browser
	/usr/bin/python3 tests/serve/test_browser.py --ferc $(BUILD)/ferc --out $(BUILD)/serve

asan:
	CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-4} $(MAKE) BUILD=build/asan LIBDIR=build/asan OPT=-O1 \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

# ThreadSanitizer with clang and LLVM's OpenMP runtime, whose Archer tool (libarcher, Debian
# libomp-14-dev) tells TSan about OpenMP's barriers and tasks, so the OpenMP paths are checked
# as well as the pthreads ones (the video pipeline, tests/test_stress.c). One ISA path (AVX2:
# TSan is 5-15x slower); Check's timeouts x10; then ferc video with detection and the
# server's tests (tests/serve/test_serve.py) on the TSan-built command. Any report fails
# the run (halt_on_error; the command exits 66).
ARCHER ?= $(firstword $(wildcard /usr/lib/llvm-*/lib/libarcher.so))
TSAN_ENV = OMP_TOOL_LIBRARIES=$(ARCHER) TSAN_OPTIONS="halt_on_error=1 abort_on_error=0 exitcode=66 second_deadlock_stack=1 ignore_noninstrumented_modules=1" \
           CK_TIMEOUT_MULTIPLIER=10 FERC_TEST_ISAS=$${FERC_TEST_ISAS:-avx2}
tsan:
	@[ -n "$(ARCHER)" ] || { echo "make tsan: libarcher.so not found (apt-get install libomp-dev)"; exit 1; }
	$(MAKE) CC=clang BUILD=build/tsan LIBDIR=build/tsan OPT=-O1 \
	  CFLAGS="-fsanitize=thread -fno-omit-frame-pointer" LDFLAGS="-fsanitize=thread" \
	  build/tsan/libferc.a $(TEST_SRC:tests/%.c=build/tsan/tests/%) build/tsan/ferc $(EXAMPLES:$(BUILD)/%=build/tsan/%)
	@$(TSAN_ENV) FERC_BUILD=build/tsan sh tests/run.sh $(TEST_SRC:tests/%.c=build/tsan/tests/%)
	@$(TSAN_ENV) sh tests/tsan_video.sh build/tsan/ferc
	@$(TSAN_ENV) /usr/bin/python3 tests/serve/test_serve.py --ferc build/tsan/ferc

valgrind: $(LIBA) $(TEST_BIN) $(BUILD)/ferc $(EXAMPLES)
	@FERC_VALGRIND=1 sh tests/run.sh $(TEST_BIN)
# The command itself under valgrind on every kind of fixture (docs/reliability.md).
valgrind-cli: ferc
	sh tests/valgrind_cli.sh ./ferc
# The server under valgrind while tests/serve/test_serve.py talks to it, stopped by SIGTERM
# and SIGINT: any memory error or leak fails (docs/reliability.md).
valgrind-serve: $(BUILD)/ferc
	/usr/bin/python3 tests/serve/test_serve.py --ferc $(BUILD)/ferc --valgrind

# Benchmarks (docs/performance.md): kernels against the FMA peak, the scalar reference and
# im2col + OpenBLAS; models against PyTorch and OpenCV DNN. Bench programs link OpenBLAS
# directly; the library never needs it. Figures on screen and in $(BUILD)/bench.json.
BLAS_CFLAGS = $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
$(BUILD)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(BLAS_CFLAGS) $(CFLAGS) $< $(LIBA) -o $@ $(BLAS_LIBS) $(LDLIBS) $(LDFLAGS)
# bench_kernels times the library's own im2col + OpenBLAS backend, compiled into it.
$(BUILD)/bench/bench_kernels: bench/bench_kernels.c kernels/conv2d_openblas.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -DFERC_WITH_OPENBLAS $(BLAS_CFLAGS) $(CFLAGS) bench/bench_kernels.c kernels/conv2d_openblas.c \
	  $(LIBA) -o $@ $(BLAS_LIBS) $(LDLIBS) $(LDFLAGS)

bench: all $(BUILD)/bench/bench_kernels $(BUILD)/bench/bench_model $(BUILD)/bench/lbp_svm $(BUILD)/bench/bench_import_kernels \
       $(BUILD)/bench/bench_q8
	$(BUILD)/bench/bench_kernels --json $(BUILD)/bench_layers.json
	$(BUILD)/bench/bench_import_kernels
	@echo "== the same against OpenBLAS's AVX-512 kernel (OPENBLAS_CORETYPE=SkylakeX; bench only)"
	-OPENBLAS_CORETYPE=SkylakeX $(BUILD)/bench/bench_kernels --no-scalar --json $(BUILD)/bench_layers_skylakex.json
	/usr/bin/python3 bench/bench_models.py --build $(BUILD) $(BENCH_MODELS)
	/usr/bin/python3 bench/bench_int8.py --build $(BUILD)
	$(BUILD)/bench/lbp_svm weights/emotion_lbp_svm.ferc none weights/emotion_cnn.ferc weights/emotion_small.ferc
	/usr/bin/python3 bench/ssd_speed.py --repeat 7
	/usr/bin/python3 bench/yunet_speed.py --threads 1 --build $(BUILD)
	sh bench/bench_video.sh
	sh bench/bench_video.sh --detector ssd

# libFuzzer targets fuzz/fuzz_*.c against a clang + ASan/UBSan build of the library.
FUZZ_BUILD = build/fuzz
FUZZ_CFLAGS = -fsanitize=fuzzer-no-link,address,undefined -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
fuzz:
	$(MAKE) CC=clang OPENMP= BUILD=$(FUZZ_BUILD) LIBDIR=$(FUZZ_BUILD) OPT=-O1 CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_BUILD)/libferc.a
	FUZZ_BUILD=$(FUZZ_BUILD) sh fuzz/run.sh $(FUZZ_SECONDS)

check-deps:
	@sh tools/install-deps.sh --check-only >/dev/null 2>&1 || sh tools/install-deps.sh

deps:
	sh tools/install-deps.sh
deps-tools:
	sh tools/install-deps.sh --tools

# The main job on the bundled sample: find the faces, say their emotions, draw them.
demo: check-deps all
	./ferc --format text --annotate build/demo tests/data/astronaut.jpg
	@echo "annotated copy: build/demo/tests_data_astronaut.jpg"

# Figures that need FER2013 (not in the repository): accuracy of every shipped classifier.
FER2013 ?= ../shared/data/fer2013
eval: all
	@if [ ! -d "$(FER2013)/val" ]; then echo "make eval: FER2013 not found at $(FER2013) (set FER2013=DIR with val/<class>/*.jpg); nothing measured"; exit 1; fi
	@for c in cnn small lbp-svm; do for t in "" --tta $$([ $$c = lbp-svm ] || echo --tta=centre --tta=crops --int8,--tta=centre); do \
	  t=$$(echo "$$t" | tr , ' '); printf '%s %s: ' $$c "$${t:-no-tta}"; ./ferc eval --data $(FER2013)/val --classifier $$c $$t | \
	  /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("accuracy %.4f on %d images, %.1f s" % (r["accuracy"], r["images"], r["seconds"]))'; done; done
	@for m in mini_xception big_xception; do for t in "" --tta; do \
	  printf '%s %s: ' $$m "$${t:-no-tta}"; ./ferc eval --data $(FER2013)/val --model weights/$$m.ferc $$t | \
	  /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("accuracy %.4f on %d images, %.1f s" % (r["accuracy"], r["images"], r["seconds"]))'; done; done

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

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# ---- LBP + linear SVM fallback classifier (docs/LBP_SVM.md) ----
# The trainer and the benchmark are built with everything else so they never rot.
# make train-lbp retrains weights/emotion_lbp_svm.ferc from FER2013 (FER2013=path).
LBP_FEATS ?= --feat 8,1,8,8,4,4,2 --feat 8,2,8,8,4,4,2 --feat 8,3,8,8,4,4,2 --feat 8,4,8,8,4,4,2 \
             --feat 8,5,8,8,4,4,2 --equalize
LBP_C ?= 0.003,0.002
$(BUILD)/tools/model/train_svm $(BUILD)/bench/lbp_svm: $(BUILD)/%: %.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< $(LIBA) -o $@ $(LDLIBS) $(LDFLAGS)
.PHONY: train-lbp bench-lbp
train-lbp: $(BUILD)/tools/model/train_svm
	$(BUILD)/tools/model/train_svm --data $(FER2013) --out $(BUILD)/lbp_svm $(LBP_FEATS) --C $(LBP_C)
	/usr/bin/python3 tools/model/pack_lbp_svm.py $(BUILD)/lbp_svm weights/emotion_lbp_svm.ferc
bench-lbp: $(BUILD)/bench/lbp_svm
	$(BUILD)/bench/lbp_svm weights/emotion_lbp_svm.ferc $(FER2013)
