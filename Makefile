# cadre - top-level entry points. `make run` and `make test` work on a bare Debian 12 machine:
# they install any missing Debian package first (as root, or through sudo).

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= 2
SEED       ?= 0
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

DEBS = build-essential cmake pkg-config git \
       libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev libyaml-dev libcmocka-dev \
       libjansson-dev libsimdjson-dev libxxhash-dev nettle-dev zlib1g-dev libsodium-dev \
       libsystemd-dev systemd clang-format \
       python3 python3-zmq python3-msgpack time iproute2 kmod libssl-dev openssl

# Only `make fuzz` needs clang and libFuzzer's runtime (libclang-rt-14-dev).
FUZZ_DEBS = clang-14 libclang-rt-14-dev

.PHONY: all deps build run test test-asan build-asan build-fuzz fuzz format format-check clean bench

all: build

deps:
	@bash tools/install-deps.sh $(DEBS)

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

# The main job on the embedded default: generate the noise_floor fixture corpus (DECNET's five
# scenarios plus 18 noise scanners), stream it through the embedded engine (broker, shards
# and the merger in one process over inproc://, LMDB in a temporary data directory), and print
# the summary with the quality metrics against the corpus's truth labels. Outputs land in
# $(BUILD)/run/.
run: build
	@mkdir -p $(BUILD)/run
	$(BUILD)/cadre gen fixtures/campaigns/noise_floor.yaml --seed $(SEED) --out $(BUILD)/run/corpus.msgpack --summary
	$(BUILD)/cadre run $(BUILD)/run/corpus.msgpack --out $(BUILD)/run/assignments.jsonl \
	    --events $(BUILD)/run/events.jsonl --identities $(BUILD)/run/identities.jsonl \
	    --campaigns $(BUILD)/run/campaigns.jsonl

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The performance harness (docs/bench.md), kept out of `make test`: generates the corpora, runs
# every measurement with its verification against the truth, and writes
# $(BUILD)/bench/results.md and results.csv. Knobs: BENCH_SIZES, BENCH_RUNS,
# BENCH_STREAM_SECONDS, BENCH_OUT, BENCH_CAP_S (bench/run.sh lists them all).
bench: build
	BUILD=$(BUILD) bash bench/run.sh

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DCADRE_SANITIZE=address,undefined
	cmake --build $(BUILD_ASAN) -j$(JOBS)

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

build-fuzz: deps
	@bash tools/install-deps.sh $(FUZZ_DEBS)
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCADRE_FUZZ=ON -DBUILD_TESTING=OFF
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzzers

# Every libFuzzer target of fuzz/ (docs/fuzzing.md) for FUZZ_SECONDS each, one at a time,
# from the seed corpora; new crashes land in fuzz/regressions/<target>/. FUZZ_TARGETS picks
# targets, FUZZ_ARGS adds libFuzzer options.
fuzz: build-fuzz
	BUILD_FUZZ=$(BUILD_FUZZ) FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
