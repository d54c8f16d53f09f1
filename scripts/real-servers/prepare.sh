#!/usr/bin/env bash
# Prepares the real-server test peers (run by `npm run test:real-servers` before jest):
#   1. build-llama-server.sh: llama.cpp's llama-server, built offline once into the cache
#      (${GRYM_REAL_SERVERS_CACHE:-$HOME/.cache/grym-perf}/llama.cpp-de3ff81/; ~15 min on 2 cores the first time)
#   2. make-tiny-models.py: tiny random-weight GGUF models (tiny-a, tiny-b) into <that dir>/tiny-models
# Idempotent and fast once done. Prints the binary's and the models directory's paths.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

BIN="$(bash "$HERE/build-llama-server.sh")"
CACHE_DIR="$(dirname "$(dirname "$BIN")")"
MODELS_DIR="$(python3 "$HERE/make-tiny-models.py" --cache "$CACHE_DIR" "$CACHE_DIR/tiny-models")"

echo "llama-server: $BIN"
echo "models:       $MODELS_DIR ($(cd "$MODELS_DIR" && ls -1 -- *.gguf | paste -sd ' ' -))"
