#!/usr/bin/env python3
"""Converts a CTranslate2 Whisper model (faster-whisper's model.bin) to whisper.cpp's ggml format.

Python 3.11 standard library only (no numpy, no torch): it runs at provisioning
on a fresh machine's python3.

Inputs:
  --model PART      CTranslate2's model.bin; give it several times for a model
                    split into parts (they are read as one file, in order)
  --vocabulary F    CTranslate2's vocabulary.txt (one token a line, GPT-2
                    byte-level BPE strings, token id = line number)
  --mel-filters F   whisper's mel_filters.npz, or the openai-whisper sdist
                    (.tar.gz) that holds it as whisper/assets/mel_filters.npz
  --output F        the ggml file to write

The output is what whisper.cpp's models/convert-pt-to-ggml.py writes from
OpenAI's checkpoint (f16 weights, f32 biases/norms/positional embeddings):

  magic 0x67676d6c; hparams n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
  n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels,
  ftype (1 = f16); mel filters (n_mel, n_fft, f32 values); tokens (count, then
  length + bytes each: the byte-level vocabulary, see ggml_tokens); then
  per tensor: n_dims, name length, ftype, dims (innermost first), name, data.

CTranslate2's layout (python/ctranslate2/specs/model_spec.py `_serialize`,
src/models/model.cc `load_model`): u32 binary version; string spec name; u32
spec revision; u32 variable count; per variable: string name, u8 rank, u32
dims, u8 dtype (version >= 4; before, an item size), u32 byte count, data; u32
alias count; per alias: string alias, string variable. Strings are a u16
length including a final NUL, then the bytes. Everything is little-endian.

CTranslate2 fuses the self-attention q, k, v projections into
`self_attention/linear_0` and the cross-attention k, v into
`attention/linear_1`; Whisper's key projection has no bias, which the fusing
fills with zeros: the bias is split and the key's part dropped, as ggml
files have no `attn.key.bias`.
"""
import argparse
import ast
import io
import os
import re
import struct
import sys
import tarfile
import time
import zipfile

GGML_MAGIC = 0x67676D6C
SUPPORTED_BINARY_VERSIONS = range(2, 7)  # CTranslate2's CURRENT_BINARY_VERSION is 6

# include/ctranslate2/types.h, enum class DataType
FLOAT32, INT8, INT16, INT32, FLOAT16, BFLOAT16 = range(6)
DTYPE_NAMES = {FLOAT32: "float32", INT8: "int8", INT16: "int16", INT32: "int32",
               FLOAT16: "float16", BFLOAT16: "bfloat16"}
ITEM_SIZE = {FLOAT32: 4, INT8: 1, INT16: 2, INT32: 4, FLOAT16: 2, BFLOAT16: 2}
# Before binary version 4 a variable gave its item size, not its type (model.cc).
DTYPE_FROM_ITEM_SIZE = {4: FLOAT32, 2: INT16, 1: INT8}


class ConvertError(Exception):
    pass


class PartsReader:
    """Reads several files as one, with seek (a model split into packages)."""

    def __init__(self, paths):
        self.files = [open(p, "rb") for p in paths]
        self.starts = []
        total = 0
        for f in self.files:
            self.starts.append(total)
            total += os.fstat(f.fileno()).st_size
        self.size = total
        self.pos = 0

    def close(self):
        for f in self.files:
            f.close()

    def seek(self, pos):
        self.pos = pos

    def tell(self):
        return self.pos

    def read(self, n):
        out = bytearray()
        while n > 0 and self.pos < self.size:
            i = max(k for k, s in enumerate(self.starts) if s <= self.pos)
            f = self.files[i]
            f.seek(self.pos - self.starts[i])
            chunk = f.read(n)
            if not chunk:
                break
            out += chunk
            self.pos += len(chunk)
            n -= len(chunk)
        return bytes(out)

    def exact(self, n):
        data = self.read(n)
        if len(data) != n:
            raise ConvertError("model.bin is truncated")
        return data


class Variable:
    def __init__(self, name, shape, dtype, offset, nbytes):
        self.name, self.shape, self.dtype, self.offset, self.nbytes = name, shape, dtype, offset, nbytes


class Ct2Model:
    def __init__(self, reader):
        self.reader = reader
        r = reader

        def u(fmt):
            return struct.unpack("<" + fmt, r.exact(struct.calcsize("<" + fmt)))

        def string():
            (n,) = u("H")
            raw = r.exact(n)
            if not raw.endswith(b"\0"):
                raise ConvertError("model.bin: malformed string")
            return raw[:-1].decode("utf-8")

        (self.binary_version,) = u("I")
        if self.binary_version not in SUPPORTED_BINARY_VERSIONS:
            raise ConvertError(f"model.bin: unsupported CTranslate2 binary version {self.binary_version}")
        self.spec = string()
        (self.revision,) = u("I")
        if self.spec != "WhisperSpec":
            raise ConvertError(f"model.bin: spec {self.spec!r} is not WhisperSpec")
        (count,) = u("I")
        self.variables = {}
        for _ in range(count):
            name = string()
            (rank,) = u("B")
            shape = u(f"{rank}I") if rank else ()
            if self.binary_version >= 4:
                (dtype,) = u("B")
                (nbytes,) = u("I")
            else:
                (item_size,) = u("B")
                dtype = DTYPE_FROM_ITEM_SIZE.get(item_size)
                (n,) = u("I")
                nbytes = n * item_size
            if dtype not in ITEM_SIZE:
                raise ConvertError(f"model.bin: {name} has unknown type {dtype}")
            elements = 1
            for d in shape:
                elements *= d
            if elements * ITEM_SIZE[dtype] != nbytes:
                raise ConvertError(f"model.bin: {name} has an invalid payload size")
            self.variables[name] = Variable(name, shape, dtype, r.tell(), nbytes)
            r.seek(r.tell() + nbytes)
        self.aliases = {}
        if r.tell() < r.size:
            (count,) = u("I")
            for _ in range(count):
                alias = string()
                self.aliases[alias] = string()
        if r.tell() != r.size:
            raise ConvertError(f"model.bin: {r.size - r.tell()} unexpected bytes at the end")

    def has(self, name):
        return name in self.variables or name in self.aliases

    def var(self, name):
        name = self.aliases.get(name, name)
        try:
            return self.variables[name]
        except KeyError:
            raise ConvertError(f"model.bin has no variable {name}") from None

    def data(self, var):
        self.reader.seek(var.offset)
        return self.reader.exact(var.nbytes)

    def scalar(self, name):
        v = self.var(name)
        fmt = {INT8: "b", INT16: "h", INT32: "i", FLOAT32: "f"}[v.dtype]
        return struct.unpack("<" + fmt, self.data(v))[0]

    def layers(self, prefix):
        ids = {int(m.group(1)) for n in self.variables
               if (m := re.match(re.escape(prefix) + r"/layer_(\d+)/", n))}
        if ids != set(range(len(ids))):
            raise ConvertError(f"model.bin: {prefix} layers are not numbered 0..n-1")
        return len(ids)


# --- float conversions (little-endian bytes in, little-endian bytes out) ---

def f16_to_f32(data):
    n = len(data) // 2
    return struct.pack(f"<{n}f", *struct.unpack(f"<{n}e", data))


def f32_to_f16(data):
    n = len(data) // 4
    try:
        return struct.pack(f"<{n}e", *struct.unpack(f"<{n}f", data))
    except (OverflowError, struct.error) as e:
        raise ConvertError(f"a weight does not fit in float16: {e}") from None


def bf16_to_f32(data):
    out = bytearray(len(data) * 2)
    out[2::4] = data[0::2]
    out[3::4] = data[1::2]
    return bytes(out)


def as_type(data, dtype, want):
    """Converts a float tensor's bytes from dtype to want (FLOAT16 or FLOAT32)."""
    if dtype == want:
        return data
    if dtype == BFLOAT16:
        data, dtype = bf16_to_f32(data), FLOAT32
        if want == FLOAT32:
            return data
    if dtype == FLOAT16 and want == FLOAT32:
        return f16_to_f32(data)
    if dtype == FLOAT32 and want == FLOAT16:
        return f32_to_f16(data)
    raise ConvertError(
        f"cannot convert {DTYPE_NAMES[dtype]} weights (a quantized model?): "
        "use a float16 or float32 CTranslate2 model")


# --- inputs besides model.bin ---

def bytes_to_unicode():
    """GPT-2's byte <-> printable character table (openai/gpt-2 src/encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def read_vocabulary(path):
    text = open(path, encoding="utf-8", newline="").read()
    # One token a line: split on "\n" only (str.splitlines also splits on
    # \x85, \u2028 ... which are not line ends here).
    tokens = text.split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    return [t[:-1] if t.endswith("\r") else t for t in tokens]


def ggml_tokens(vocabulary, n_vocab):
    """The tokens written to the ggml file, as bytes.

    The ordinary tokens: whisper's gpt2 (English-only models) or multilingual
    tiktoken ranks, byte-decoded from CTranslate2's byte-level strings. The
    published ggml models (ggerganov/whisper.cpp on Hugging Face) were
    converted from whisper's old Hugging Face vocab.json files: GPT-2's has
    <|endoftext|> as its last entry, the multilingual one has not, so the
    English-only files carry one more token. This does the same, which gives
    exactly their sizes; whisper.cpp names the special tokens it is not given.
    """
    try:
        eot = vocabulary.index("<|endoftext|>")
    except ValueError:
        raise ConvertError("vocabulary.txt has no <|endoftext|>") from None
    multilingual = n_vocab >= 51865  # as convert-pt-to-ggml.py decides
    decoder = {c: b for b, c in bytes_to_unicode().items()}
    out = []
    for i, token in enumerate(vocabulary[:eot if multilingual else eot + 1]):
        try:
            out.append(bytes(decoder[c] for c in token))
        except KeyError:
            raise ConvertError(f"vocabulary.txt line {i + 1} is not a byte-level BPE token: {token!r}") from None
    return out


def read_npy(raw, what):
    if raw[:6] != b"\x93NUMPY":
        raise ConvertError(f"{what} is not a .npy array")
    major = raw[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", raw[8:10]), 10
    elif major in (2, 3):
        (hlen,), start = struct.unpack("<I", raw[8:12]), 12
    else:
        raise ConvertError(f"{what}: unknown .npy version {major}")
    header = ast.literal_eval(raw[start:start + hlen].decode("latin-1"))
    if header.get("descr") != "<f4" or header.get("fortran_order"):
        raise ConvertError(f"{what}: expected C-ordered little-endian float32, got {header}")
    shape = tuple(header["shape"])
    data = raw[start + hlen:]
    if len(shape) != 2 or len(data) != shape[0] * shape[1] * 4:
        raise ConvertError(f"{what}: unexpected shape {shape} for {len(data)} bytes")
    return shape, data


def read_mel_filters(path, n_mels):
    """The n_mels x n_fft filter bank from mel_filters.npz (or the sdist holding it)."""
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as t:
            members = [m for m in t.getmembers() if m.name.endswith("whisper/assets/mel_filters.npz")]
            if len(members) != 1:
                raise ConvertError(f"{path} holds no (single) whisper/assets/mel_filters.npz")
            npz = t.extractfile(members[0]).read()
    else:
        with open(path, "rb") as f:
            npz = f.read()
    array = f"mel_{n_mels}"
    with zipfile.ZipFile(io.BytesIO(npz)) as z:
        try:
            raw = z.read(array + ".npy")
        except KeyError:
            raise ConvertError(f"mel_filters.npz has no {array}") from None
    shape, data = read_npy(raw, array)
    if shape[0] != n_mels:
        raise ConvertError(f"{array} has shape {shape}")
    return shape, data


# --- the conversion ---

def tensors(m, hp):
    """(ggml name, shape, ggml type, bytes) in convert-pt-to-ggml.py's order (the checkpoint's)."""

    def plain(name, ct2, want=FLOAT16):
        v = m.var(ct2)
        return name, v.shape, want, as_type(m.data(v), v.dtype, want)

    def norm(name, ct2):
        yield plain(name + ".weight", ct2 + "/gamma", FLOAT32)
        yield plain(name + ".bias", ct2 + "/beta", FLOAT32)

    def linear(name, ct2):
        yield plain(name + ".weight", ct2 + "/weight")
        yield plain(name + ".bias", ct2 + "/bias", FLOAT32)

    def fused(names, ct2, state):
        """Splits a fused projection; names are (ggml prefix, has_bias) in fused order."""
        w = m.var(ct2 + "/weight")
        if w.shape != (state * len(names), state):
            raise ConvertError(f"{ct2}/weight has shape {w.shape}, expected {(state * len(names), state)}")
        wdata = as_type(m.data(w), w.dtype, FLOAT16)
        bdata = None
        if m.has(ct2 + "/bias"):
            b = m.var(ct2 + "/bias")
            if b.shape != (state * len(names),):
                raise ConvertError(f"{ct2}/bias has shape {b.shape}")
            bdata = as_type(m.data(b), b.dtype, FLOAT32)
        wpart, bpart = state * state * 2, state * 4
        for i, (name, has_bias) in enumerate(names):
            yield name + ".weight", (state, state), FLOAT16, wdata[i * wpart:(i + 1) * wpart]
            if has_bias:
                if bdata is None:
                    raise ConvertError(f"{ct2} has no bias")
                yield name + ".bias", (state,), FLOAT32, bdata[i * bpart:(i + 1) * bpart]
            elif bdata is not None and any(bdata[i * bpart:(i + 1) * bpart]):
                # Whisper's key projection has no bias: the fused one must be zero there.
                raise ConvertError(f"{ct2}/bias is not zero for {name}, which has no bias in ggml")

    def self_attention(prefix, ct2, state):
        yield from fused(((prefix + ".query", True), (prefix + ".key", False), (prefix + ".value", True)),
                         ct2 + "/linear_0", state)
        yield from linear(prefix + ".out", ct2 + "/linear_1")

    def mlp(prefix, ct2):
        yield from linear(prefix + ".mlp.0", ct2 + "/linear_0")
        yield from linear(prefix + ".mlp.2", ct2 + "/linear_1")
        yield from norm(prefix + ".mlp_ln", ct2 + "/layer_norm")

    # Encoder (AudioEncoder: its positional_embedding buffer comes first in the state dict).
    yield plain("encoder.positional_embedding", "encoder/position_encodings/encodings", FLOAT32)
    for conv in ("conv1", "conv2"):
        yield plain(f"encoder.{conv}.weight", f"encoder/{conv}/weight")
        name, shape, t, data = plain(f"encoder.{conv}.bias", f"encoder/{conv}/bias", FLOAT32)
        yield name, (shape[0], 1), t, data  # reshaped [n] -> [n, 1] as convert-pt-to-ggml.py does
    for i in range(hp["n_audio_layer"]):
        p, c = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        yield from self_attention(p + ".attn", c + "/self_attention", hp["n_audio_state"])
        yield from norm(p + ".attn_ln", c + "/self_attention/layer_norm")
        yield from mlp(p, c + "/ffn")
    yield from norm("encoder.ln_post", "encoder/layer_norm")

    # Decoder (TextDecoder: its positional_embedding parameter comes before the token embedding).
    yield plain("decoder.positional_embedding", "decoder/position_encodings/encodings", FLOAT32)
    yield plain("decoder.token_embedding.weight", "decoder/embeddings/weight")
    for i in range(hp["n_text_layer"]):
        p, c = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        state = hp["n_text_state"]
        yield from self_attention(p + ".attn", c + "/self_attention", state)
        yield from norm(p + ".attn_ln", c + "/self_attention/layer_norm")
        yield from linear(p + ".cross_attn.query", c + "/attention/linear_0")
        yield from fused(((p + ".cross_attn.key", False), (p + ".cross_attn.value", True)),
                         c + "/attention/linear_1", state)
        yield from linear(p + ".cross_attn.out", c + "/attention/linear_2")
        yield from norm(p + ".cross_attn_ln", c + "/attention/layer_norm")
        yield from mlp(p, c + "/ffn")
    yield from norm("decoder.ln", "decoder/layer_norm")


def hparams(m):
    enc_pos = m.var("encoder/position_encodings/encodings").shape
    dec_pos = m.var("decoder/position_encodings/encodings").shape
    emb = m.var("decoder/embeddings/weight").shape
    conv1 = m.var("encoder/conv1/weight").shape
    return {
        "n_vocab": emb[0],
        "n_audio_ctx": enc_pos[0],
        "n_audio_state": enc_pos[1],
        "n_audio_head": m.scalar("encoder/num_heads"),
        "n_audio_layer": m.layers("encoder"),
        "n_text_ctx": dec_pos[0],
        "n_text_state": emb[1],
        "n_text_head": m.scalar("decoder/num_heads"),
        "n_text_layer": m.layers("decoder"),
        "n_mels": conv1[1],
    }


def convert(model_parts, vocabulary_path, mel_path, output, log=print):
    reader = PartsReader(model_parts)
    try:
        m = Ct2Model(reader)
        hp = hparams(m)
        log(f"convert: {m.spec} revision {m.revision} (binary version {m.binary_version}), "
            f"{len(m.variables)} variables; hparams {hp}")
        vocabulary = read_vocabulary(vocabulary_path)
        if len(vocabulary) != hp["n_vocab"]:
            raise ConvertError(f"vocabulary.txt has {len(vocabulary)} tokens, the model {hp['n_vocab']}")
        tokens = ggml_tokens(vocabulary, hp["n_vocab"])
        (n_mel, n_fft), filters = read_mel_filters(mel_path, hp["n_mels"])

        with open(output, "wb") as out:
            out.write(struct.pack("<i", GGML_MAGIC))
            for key in ("n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
                        "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels"):
                out.write(struct.pack("<i", hp[key]))
            out.write(struct.pack("<i", 1))  # ftype: f16 weights
            out.write(struct.pack("<ii", n_mel, n_fft))
            out.write(filters)
            out.write(struct.pack("<i", len(tokens)))
            for t in tokens:
                out.write(struct.pack("<i", len(t)))
                out.write(t)
            count = 0
            for name, shape, dtype, data in tensors(m, hp):
                elements = 1
                for d in shape:
                    elements *= d
                if len(data) != elements * ITEM_SIZE[dtype]:
                    raise ConvertError(f"{name}: {len(data)} bytes for shape {shape}")
                raw = name.encode("utf-8")
                out.write(struct.pack("<iii", len(shape), len(raw), 1 if dtype == FLOAT16 else 0))
                out.write(struct.pack(f"<{len(shape)}i", *reversed(shape)))
                out.write(raw)
                out.write(data)
                count += 1
        log(f"convert: wrote {count} tensors, {len(tokens)} tokens to {output} "
            f"({os.path.getsize(output)} bytes)")
    finally:
        reader.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, metavar="PART",
                        help="CTranslate2 model.bin (repeat, in order, for a split model)")
    parser.add_argument("--vocabulary", required=True, help="CTranslate2 vocabulary.txt")
    parser.add_argument("--mel-filters", required=True,
                        help="mel_filters.npz, or the openai-whisper sdist (.tar.gz) holding it")
    parser.add_argument("--output", required=True, help="the ggml file to write")
    args = parser.parse_args()
    start = time.monotonic()
    try:
        convert(args.model, args.vocabulary, args.mel_filters, args.output,
                log=lambda s: print(s, file=sys.stderr))
    except (ConvertError, OSError) as e:
        sys.exit(f"convert: {e}")
    print(f"convert: done in {time.monotonic() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
