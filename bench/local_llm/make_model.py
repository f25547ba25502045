"""A Qwen2.5-Coder-1.5B-shaped model with random weights, for timing a real llama.cpp server here.

No model weights can be downloaded on these machines, but llama.cpp's source (in the
llama-cpp-python sdist, from the package index) carries Qwen2's tokenizer. A model of the same
architecture and size (28 blocks, 1,536 wide, 8,960 feed-forward, 12 heads, 2 KV heads, tied
embeddings: 1.54 B parameters) costs the server the same arithmetic per token as the real one,
so prompt reading and writing speeds, time-outs and streaming behave as they would. Its answers
are noise: where the gateway asks for JSON-schema output, llama.cpp's grammar still makes them
valid JSON, which is the part this checks.

Usage: python make_model.py LLAMA_CPP_DIR OUT.gguf [--blocks 28]
(LLAMA_CPP_DIR/gguf-py is put on the path; the vocabulary is LLAMA_CPP_DIR/models/ggml-vocab-qwen2.gguf.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("llama_cpp", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--blocks", type=int, default=28)
    parser.add_argument("--width", type=int, default=1536)
    parser.add_argument("--ffn", type=int, default=8960)
    args = parser.parse_args()
    sys.path.insert(0, str(args.llama_cpp / "gguf-py"))
    import gguf

    vocab = gguf.GGUFReader(args.llama_cpp / "models" / "ggml-vocab-qwen2.gguf")

    def text(key: str) -> str:
        field = vocab.fields[key]
        return bytes(field.parts[field.data[0]]).decode()

    def number(key: str) -> int:
        field = vocab.fields[key]
        return int(field.parts[field.data[0]][0])

    def strings(key: str) -> list[str]:
        field = vocab.fields[key]
        return [bytes(field.parts[i]).decode() for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    token_types = [int(vocab.fields["tokenizer.ggml.token_type"].parts[i][0])
                   for i in vocab.fields["tokenizer.ggml.token_type"].data]
    heads, kv_heads, width = 12, 2, args.width
    head_dim = width // heads
    writer = gguf.GGUFWriter(str(args.out), "qwen2")
    writer.add_name("random-qwen2.5-coder-1.5b-shape")
    writer.add_block_count(args.blocks)
    writer.add_context_length(32768)
    writer.add_embedding_length(width)
    writer.add_feed_forward_length(args.ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model(text("tokenizer.ggml.model"))
    writer.add_tokenizer_pre(text("tokenizer.ggml.pre"))
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(strings("tokenizer.ggml.merges"))
    writer.add_eos_token_id(number("tokenizer.ggml.eos_token_id"))
    writer.add_bos_token_id(number("tokenizer.ggml.bos_token_id"))
    writer.add_pad_token_id(number("tokenizer.ggml.padding_token_id"))
    writer.add_chat_template(text("tokenizer.chat_template"))

    rng = np.random.default_rng(0)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)

    writer.add_tensor("token_embd.weight", weights(len(tokens), width))
    for n in range(args.blocks):
        block = f"blk.{n}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(width, dtype=np.float32))
        writer.add_tensor(f"{block}.attn_q.weight", weights(width, width))
        writer.add_tensor(f"{block}.attn_q.bias", np.zeros(width, dtype=np.float32))
        writer.add_tensor(f"{block}.attn_k.weight", weights(kv_heads * head_dim, width))
        writer.add_tensor(f"{block}.attn_k.bias", np.zeros(kv_heads * head_dim, dtype=np.float32))
        writer.add_tensor(f"{block}.attn_v.weight", weights(kv_heads * head_dim, width))
        writer.add_tensor(f"{block}.attn_v.bias", np.zeros(kv_heads * head_dim, dtype=np.float32))
        writer.add_tensor(f"{block}.attn_output.weight", weights(width, width))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(width, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_gate.weight", weights(args.ffn, width))
        writer.add_tensor(f"{block}.ffn_up.weight", weights(args.ffn, width))
        writer.add_tensor(f"{block}.ffn_down.weight", weights(width, args.ffn))
    writer.add_tensor("output_norm.weight", np.ones(width, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e9:.2f} GB)")


if __name__ == "__main__":
    main()
