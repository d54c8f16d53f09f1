#!/usr/bin/env python3
"""Writes tiny random-weight llama-architecture GGUF models for the real-server tests.

The models are real (llama.cpp loads and runs them, ~2 ms per token on a CPU) but their weights
are random, so they produce gibberish. They are deterministic: the same seed and shape give
byte-identical files. The tokenizer (llama SPM, 32000 tokens) is copied from llama.cpp's vocab-only
model models/ggml-vocab-llama-spm.gguf and a ChatML chat template is added, so
/v1/chat/completions works.

Uses gguf-py from the llama.cpp tree kept in the cache by build-llama-server.sh (no pip install).
Idempotent: existing models are kept unless --force.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

LLAMA_DIR_NAME = "llama.cpp-de3ff81"
VOCAB_REL = Path("models") / "ggml-vocab-llama-spm.gguf"

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class TinyModel:
    name: str
    seed: int
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_ctx_train: int = 4096


# Two differently named models of slightly different size (so their memory differs), for
# model-switch / router tests. tiny-a is the reference shape (4 layers, n_embd 256).
MODELS = [
    TinyModel("tiny-a", seed=1, n_layer=4, n_embd=256, n_head=4, n_head_kv=4, n_ff=768),
    TinyModel("tiny-b", seed=2, n_layer=4, n_embd=384, n_head=6, n_head_kv=6, n_ff=1024),
]


def default_cache_dir() -> Path:
    if os.environ.get("GRYM_LLAMA_CACHE"):
        return Path(os.environ["GRYM_LLAMA_CACHE"])
    root = os.environ.get("GRYM_REAL_SERVERS_CACHE") or str(Path.home() / ".cache" / "grym-perf")
    return Path(root) / LLAMA_DIR_NAME


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make-tiny-models.py",
        description="Write deterministic tiny random-weight llama GGUF models ("
        + ", ".join(f"{m.name}.gguf" for m in MODELS)
        + ") into OUT_DIR.",
        epilog="Env: GRYM_LLAMA_CACHE (the llama.cpp cache dir itself) or GRYM_REAL_SERVERS_CACHE "
        f"(its parent; default ~/.cache/grym-perf, the dir is <parent>/{LLAMA_DIR_NAME}).",
    )
    parser.add_argument(
        "out_dir",
        nargs="?",
        help="directory for the .gguf files (default: <cache>/tiny-models)",
    )
    parser.add_argument(
        "--cache",
        default=None,
        help="llama.cpp cache dir holding gguf-py/ and " + str(VOCAB_REL) + " (default: %s)" % default_cache_dir(),
    )
    parser.add_argument("--force", action="store_true", help="rewrite models that already exist")
    return parser.parse_args(argv)


def copy_tokenizer(writer, reader, gguf) -> int:  # noqa: ANN001 (gguf-py is imported at run time)
    """Copies every tokenizer.* key of the vocab-only model; returns the vocabulary size."""
    vtype = gguf.GGUFValueType
    n_vocab = 0
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        main = field.types[0]
        if main == vtype.ARRAY:
            sub = field.types[-1]
            if sub == vtype.STRING:
                value = [bytes(field.parts[i]) for i in field.data]
            else:
                value = [field.parts[i].tolist()[0] for i in field.data]
            writer.add_key_value(key, value, main, sub_type=sub)
            if key == gguf.Keys.Tokenizer.LIST:
                n_vocab = len(value)
        else:
            writer.add_key_value(key, field.contents(), main)
    if n_vocab == 0:
        raise RuntimeError("the vocab model has no tokenizer.ggml.tokens")
    return n_vocab


def write_model(spec: TinyModel, path: Path, vocab_path: Path, gguf, np) -> None:  # noqa: ANN001
    reader = gguf.GGUFReader(str(vocab_path))
    rng = np.random.default_rng(spec.seed)
    head_dim = spec.n_embd // spec.n_head
    assert head_dim * spec.n_head == spec.n_embd

    tmp = path.with_name(path.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name(spec.name)
    writer.add_description(f"grym-perf tiny random-weight test model (seed {spec.seed}); outputs gibberish")
    writer.add_context_length(spec.n_ctx_train)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    n_vocab = copy_tokenizer(writer, reader, gguf)
    writer.add_vocab_size(n_vocab)
    writer.add_chat_template(CHATML_TEMPLATE)

    def weight(rows: int, cols: int):  # noqa: ANN202
        # numpy shape (rows, cols) = ggml ne [cols, rows]: a matrix mapping cols -> rows
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    def ones(n: int):  # noqa: ANN202
        return np.ones((n,), dtype=np.float32)

    kv_dim = spec.n_head_kv * head_dim
    writer.add_tensor("token_embd.weight", weight(n_vocab, spec.n_embd))
    for i in range(spec.n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", ones(spec.n_embd))
        writer.add_tensor(f"blk.{i}.attn_q.weight", weight(spec.n_embd, spec.n_embd))
        writer.add_tensor(f"blk.{i}.attn_k.weight", weight(kv_dim, spec.n_embd))
        writer.add_tensor(f"blk.{i}.attn_v.weight", weight(kv_dim, spec.n_embd))
        writer.add_tensor(f"blk.{i}.attn_output.weight", weight(spec.n_embd, spec.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", ones(spec.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(spec.n_ff, spec.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(spec.n_ff, spec.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(spec.n_embd, spec.n_ff))
    writer.add_tensor("output_norm.weight", ones(spec.n_embd))
    writer.add_tensor("output.weight", weight(n_vocab, spec.n_embd))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cache = Path(args.cache) if args.cache else default_cache_dir()
    out_dir = Path(args.out_dir) if args.out_dir else cache / "tiny-models"
    gguf_py = cache / "gguf-py"
    vocab = cache / VOCAB_REL
    if not (gguf_py / "gguf" / "__init__.py").is_file() or not vocab.is_file():
        print(
            f"make-tiny-models: {gguf_py} or {vocab} is missing; run scripts/real-servers/build-llama-server.sh first",
            file=sys.stderr,
        )
        return 2
    try:
        import numpy as np  # noqa: PLC0415
    except ImportError:
        print("make-tiny-models: python3 needs numpy (Debian: apt-get install python3-numpy)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(gguf_py))
    import logging  # noqa: PLC0415

    logging.getLogger("gguf").setLevel(logging.WARNING)
    import gguf  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    for spec in MODELS:
        path = out_dir / f"{spec.name}.gguf"
        if path.is_file() and not args.force:
            print(f"make-tiny-models: {path} exists, kept", file=sys.stderr)
            continue
        write_model(spec, path, vocab, gguf, np)
        print(f"make-tiny-models: wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    print(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
