#!/usr/bin/env bash
# Builds llama.cpp's llama-server offline, for the real-server tests (npm run test:real-servers).
#
# The llama.cpp source comes from the npm package node-llama-cpp@3.22.1, which ships it as a git
# bundle (llama/gitRelease.bundle, llama.cpp commit de3ff81): only the npm registry is needed.
# Only the server is built, without the web UI (which would be downloaded) and without curl/openssl.
# Libraries are linked statically (BUILD_SHARED_LIBS=OFF) so bin/llama-server stands alone.
#
# Cache (outside the repo):  ${GRYM_REAL_SERVERS_CACHE:-$HOME/.cache/grym-perf}/llama.cpp-de3ff81/
#   bin/llama-server                      the server binary
#   gguf-py/                              llama.cpp's GGUF writer (for make-tiny-models.py)
#   models/ggml-vocab-llama-spm.gguf      vocab-only model (tokenizer metadata for the tiny models)
#   build.log                             output of the last build
#   COMMIT, CPU_SIGNATURE                 what was built, for which CPU (GGML_NATIVE=ON)
#   work/                                 source + build tree while building (removed on success
#                                         unless GRYM_KEEP_BUILD=1; an interrupted build resumes)
#
# Idempotent: when bin/llama-server is present, was built on this CPU (CPU_SIGNATURE) and answers
# --version, prints its path and exits at once.
# Prints progress on stderr and the binary's path (only) on stdout.
# Env: GRYM_REAL_SERVERS_CACHE, GRYM_BUILD_JOBS (default: nproc), GRYM_KEEP_BUILD=1, GRYM_FORCE_BUILD=1.
set -euo pipefail

NLC_VERSION=3.22.1
LLAMA_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6
HOME_DIR="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
CACHE_ROOT="${GRYM_REAL_SERVERS_CACHE:-$HOME_DIR/.cache/grym-perf}"
DIR="$CACHE_ROOT/llama.cpp-${LLAMA_COMMIT:0:7}"
BIN="$DIR/bin/llama-server"
VOCAB_REL=models/ggml-vocab-llama-spm.gguf
LOG="$DIR/build.log"

say() { echo "[build-llama-server] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# GGML_NATIVE=ON tunes the binary to this CPU: a cache restored on another CPU model is rebuilt.
cpu_signature() {
  { grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m; } | cksum | cut -d' ' -f1
}
CPU_SIG="$(cpu_signature)"

ready() {
  [ -x "$BIN" ] && [ -f "$DIR/$VOCAB_REL" ] && [ -f "$DIR/gguf-py/gguf/__init__.py" ] \
    && [ "$(cat "$DIR/CPU_SIGNATURE" 2>/dev/null || true)" = "$CPU_SIG" ] \
    && "$BIN" --version >/dev/null 2>&1
}

if [ "${GRYM_FORCE_BUILD:-0}" != "1" ] && ready; then
  echo "$BIN"
  exit 0
fi

for tool in npm tar git cmake c++ python3; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required (Debian: apt-get install git cmake g++ python3; npm comes with Node)"
done

mkdir -p "$DIR"
# One build at a time per cache dir (parallel CI jobs / test runs sharing the cache).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$DIR/.lock"
  if ! flock -n 9; then
    say "another build holds $DIR/.lock, waiting for it"
    flock 9
  fi
  if [ "${GRYM_FORCE_BUILD:-0}" != "1" ] && ready; then
    echo "$BIN"
    exit 0
  fi
fi

if [ -x "$BIN" ] && [ "$(cat "$DIR/CPU_SIGNATURE" 2>/dev/null || true)" != "$CPU_SIG" ]; then
  say "the cached binary was built for another CPU (or by an older script): rebuilding"
fi
START=$(date +%s)
WORK="$DIR/work"
SRC="$WORK/llama.cpp"
BUILD="$SRC/build"
mkdir -p "$WORK"

# 1. Source: node-llama-cpp's git bundle.
if [ "$(git -C "$SRC" rev-parse HEAD 2>/dev/null || true)" != "$LLAMA_COMMIT" ]; then
  rm -rf "$SRC"
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/grym-llama-pack.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  say "npm pack node-llama-cpp@$NLC_VERSION (llama.cpp source bundle)"
  (cd "$TMP" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null 2>"$TMP/npm.err") \
    || { cat "$TMP/npm.err" >&2; die "npm pack failed"; }
  tar -xzf "$TMP/node-llama-cpp-$NLC_VERSION.tgz" -C "$TMP" package/llama/gitRelease.bundle
  say "git clone the bundle into $SRC"
  git -c advice.detachedHead=false clone -q "$TMP/package/llama/gitRelease.bundle" "$SRC"
  git -C "$SRC" -c advice.detachedHead=false checkout -q "$LLAMA_COMMIT" \
    || die "the bundle does not contain llama.cpp commit $LLAMA_COMMIT"
  rm -rf "$TMP"
  trap - EXIT
else
  say "reusing source tree $SRC (commit ${LLAMA_COMMIT:0:7})"
fi

# 2. Build llama-server only.
GEN=()
if command -v ninja >/dev/null 2>&1 && { [ ! -f "$BUILD/CMakeCache.txt" ] || grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD/CMakeCache.txt"; }; then
  GEN=(-G Ninja)
fi
JOBS="${GRYM_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
say "configuring (log: $LOG)"
: >"$LOG"
cmake -S "$SRC" -B "$BUILD" "${GEN[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF \
  -DGGML_NATIVE=ON \
  -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF >>"$LOG" 2>&1 \
  || { tail -n 40 "$LOG" >&2; die "cmake configure failed, see $LOG"; }
say "building llama-server with $JOBS jobs (12-20 min on 2 cores; progress in $LOG)"
cmake --build "$BUILD" --target llama-server -j "$JOBS" >>"$LOG" 2>&1 &
BUILD_PID=$!
trap 'kill "$BUILD_PID" 2>/dev/null || true' INT TERM
while kill -0 "$BUILD_PID" 2>/dev/null; do
  sleep 60
  kill -0 "$BUILD_PID" 2>/dev/null || break
  step=$(grep -Eo '^\[ *[0-9]+(%|/[0-9]+)\]' "$LOG" | tail -n 1 || true)
  say "  still building, $(( $(date +%s) - START ))s elapsed ${step}"
done
if ! wait "$BUILD_PID"; then
  tail -n 40 "$LOG" >&2
  die "build failed, see $LOG"
fi
trap - INT TERM

BUILT="$BUILD/bin/llama-server"
[ -x "$BUILT" ] || die "build finished but $BUILT is missing"

# 3. Install into the cache: binary (+ any non-system shared library it links), gguf-py, vocab.
mkdir -p "$DIR/bin" "$DIR/models"
cp -f "$BUILT" "$BIN.tmp" && mv -f "$BIN.tmp" "$BIN"
if command -v ldd >/dev/null 2>&1; then
  # With BUILD_SHARED_LIBS=OFF nothing from the build tree is linked; copy anything that is.
  while read -r lib; do
    [ -n "$lib" ] || continue
    say "copying shared library $(basename "$lib")"
    cp -fL "$lib" "$DIR/bin/"
  done < <(ldd "$BUILT" | awk -v b="$BUILD" '$3 ~ "^"b {print $3}')
  if LD_LIBRARY_PATH="$DIR/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$BIN" | grep -q 'not found'; then
    ldd "$BIN" >&2
    die "$BIN has unresolved shared libraries"
  fi
fi
rm -rf "$DIR/gguf-py.tmp"
cp -a "$SRC/gguf-py" "$DIR/gguf-py.tmp"
rm -rf "$DIR/gguf-py" && mv "$DIR/gguf-py.tmp" "$DIR/gguf-py"
cp -f "$SRC/$VOCAB_REL" "$DIR/$VOCAB_REL"
cp -f "$SRC/LICENSE" "$DIR/LICENSE.llama.cpp"
echo "$LLAMA_COMMIT" >"$DIR/COMMIT"
echo "$CPU_SIG" >"$DIR/CPU_SIGNATURE"

"$BIN" --version >>"$LOG" 2>&1 || die "$BIN does not run (--version failed), see $LOG"
if [ "${GRYM_KEEP_BUILD:-0}" != "1" ]; then
  rm -rf "$WORK"
fi
say "done in $(( $(date +%s) - START ))s: $($BIN --version 2>&1 | grep -m1 -i version || true)"
echo "$BIN"
