#!/usr/bin/env python3
"""Golden values of the LAVITI network for model/src/test/.../LavitiGoldenTest.java.

An independent PyTorch implementation of the forward pass the Java model realises (DESIGN §4 and
model/src/main/java/dev/moments/model): the tokenizer as the paper's Conv1d (kernel = stride = k,
weight [D, C, k]) over the window's frames padded to a multiple of k by repeating the last frame,
LayerNorm on the tokens, the learnable TE table linearly interpolated at each token's relative
position (centre of its frames) and added, pre-norm transformer encoder (LN -> self-attention ->
residual, LN -> ReLU FFN -> residual), final LayerNorm, DETR decoder over M learnable queries
(LN -> self-attention, LN -> cross-attention to the encoder output, LN -> FFN, each residual),
final LayerNorm, three FFN heads (Linear -> ReLU -> Linear) each L2-normalized. It computes every
window on its own, in float64, with no padding tokens and no masks: the Java model must give the
same numbers for the window whatever else is in its batch. It also computes the score the Java
MomentPredictor reports: sigma(t cos_s + b) * sigma(t cos_e + b), where cos_s / cos_e is the best
cosine of the predicted start / end TE with the TE table interpolated at every frame centre.

Weights (a fixed seed, non-trivial biases and LayerNorm gains) and inputs are generated here and
written with the expected outputs to one .npz (float32, int32):
  config                     int32 [C, text, D, L, enc, dec, heads, ffn, M, k]
  fps                        float32 [1]
  <param>                    each Java parameter, named by its block path without DJL's two-digit
                             child prefixes (e.g. encoder0_attn_q_weight, tokenNorm_gamma)
  tokenizer_conv_weight      the tokenizer weight in the conv layout [D, C, k] (the Java test
                             converts it, which checks the conv -> linear conversion too)
  caseI_lengths              int32 [B], the windows of batch I
  caseI_wJ                   float32 [T, C], window J of batch I (L2-normalized rows)
  caseI_v / caseI_s / caseI_e  float32 [B, M, text] / [B, M, D] / [B, M, D] expected outputs
  caseI_score                float32 [B, M] expected scores

Run (torch is not needed at test time; the fixture is committed):
  python3 -m venv --system-site-packages /tmp/venv
  /tmp/venv/bin/pip install --no-deps --no-index /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl numpy
  /tmp/venv/bin/python scripts/laviti_golden.py model/src/test/resources/laviti-golden.npz

The committed fixture was made with torch 2.13.0+cpu and numpy 2.1.3 (Python 3.11); any torch
1.13+ gives the same numbers to ~1e-7 (float64).
"""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

# tiny sizes: C, text, D, L, encoder layers, decoder layers, heads, FFN, M, k
C, TEXT, D, L, ENC, DEC, HEADS, FFN, M, K = 24, 16, 32, 16, 2, 2, 4, 32, 5, 7
FPS = 6.0
# batches of window lengths: single windows (one a multiple of k, one shorter than k), padded
# batches mixing lengths not divisible by k, and unpadded batches of equal lengths
CASES = [[7], [1], [20, 9, 3], [60, 14, 35, 2], [21, 21, 21, 21], [50, 50], [3, 45, 8]]


def params(gen):
    """The network's weights, keyed by the Java parameter path (DJL child prefixes stripped)."""
    p = {}

    def uniform(shape, bound):
        return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    def linear(name, n_in, n_out):
        p[name + "_weight"] = uniform((n_out, n_in), math.sqrt(6.0 / (n_in + n_out)))
        p[name + "_bias"] = uniform((n_out,), 0.1)

    def norm(name, n):
        p[name + "_gamma"] = 1 + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
        p[name + "_beta"] = 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)

    def attention(name):
        for x in "qkvo":
            linear(name + "_" + x, D, D)

    def ffn(name, n_in, hidden, n_out):
        linear(name + "_fc1", n_in, hidden)
        linear(name + "_fc2", hidden, n_out)

    pos = torch.arange(L, dtype=torch.float64)[:, None]
    freq = torch.pow(10000.0, -torch.arange(0, D, 2, dtype=torch.float64) / D)
    te = torch.zeros(L, D, dtype=torch.float64)
    te[:, 0::2] = torch.sin(pos * freq)
    te[:, 1::2] = torch.cos(pos * freq)
    p["temporalEmbeddings"] = te + 0.05 * torch.randn(L, D, generator=gen, dtype=torch.float64)
    p["queries"] = torch.randn(M, D, generator=gen, dtype=torch.float64)
    p["logitScale"] = torch.tensor([math.log(10.0)], dtype=torch.float64)
    p["logitBias"] = torch.tensor([-5.0], dtype=torch.float64)
    p["tokenizer_conv_weight"] = uniform((D, C, K), math.sqrt(6.0 / (C * K + D * K)))
    p["tokenizer_bias"] = uniform((D,), 0.1)
    norm("tokenNorm", D)
    for i in range(ENC):
        norm(f"encoder{i}_norm1", D)
        attention(f"encoder{i}_attn")
        norm(f"encoder{i}_norm2", D)
        ffn(f"encoder{i}_ffn", D, FFN, D)
    norm("encoderNorm", D)
    for i in range(DEC):
        norm(f"decoder{i}_norm1", D)
        attention(f"decoder{i}_selfAttn")
        norm(f"decoder{i}_norm2", D)
        attention(f"decoder{i}_crossAttn")
        norm(f"decoder{i}_norm3", D)
        ffn(f"decoder{i}_ffn", D, FFN, D)
    norm("decoderNorm", D)
    ffn("embeddingHead", D, D, TEXT)
    ffn("startHead", D, D, D)
    ffn("endHead", D, D, D)
    # round to float32 once: the Java model holds float32 weights
    return {k: v.float().double() for k, v in p.items()}


def layer_norm(p, name, x):
    return F.layer_norm(x, (x.shape[-1],), p[name + "_gamma"], p[name + "_beta"], eps=1e-5)


def lin(p, name, x):
    return x @ p[name + "_weight"].T + p[name + "_bias"]


def attention(p, name, query, kv):
    dh = D // HEADS

    def heads(x):  # [N, D] -> [H, N, dh]
        return x.reshape(x.shape[0], HEADS, dh).transpose(0, 1)

    q, k, v = heads(lin(p, name + "_q", query)), heads(lin(p, name + "_k", kv)), heads(lin(p, name + "_v", kv))
    w = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(dh), dim=-1)
    return lin(p, name + "_o", (w @ v).transpose(0, 1).reshape(query.shape[0], D))


def ffn(p, name, x):
    return lin(p, name + "_fc2", torch.relu(lin(p, name + "_fc1", x)))


def interp(te, r):
    """The TE table at relative position r: linear between the two neighbouring rows."""
    x = min(max(r, 0.0), 1.0) * (L - 1)
    lo = min(int(math.floor(x)), L - 2)
    up = x - lo
    return (1 - up) * te[lo] + up * te[lo + 1]


def forward(p, frames):
    """One window [T, C] -> (v [M, text], s [M, D], e [M, D], score [M])."""
    t = frames.shape[0]
    n = max(1, -(-t // K))
    padded = torch.cat([frames, frames[-1:].expand(n * K - t, C)], dim=0)
    tokens = F.conv1d(padded.T.unsqueeze(0), p["tokenizer_conv_weight"], p["tokenizer_bias"], stride=K)[0].T
    te = p["temporalEmbeddings"]
    x = layer_norm(p, "tokenNorm", tokens) + torch.stack([interp(te, min(1.0, (K * j + K / 2.0) / t)) for j in range(n)])
    for i in range(ENC):
        h = layer_norm(p, f"encoder{i}_norm1", x)
        x = x + attention(p, f"encoder{i}_attn", h, h)
        x = x + ffn(p, f"encoder{i}_ffn", layer_norm(p, f"encoder{i}_norm2", x))
    memory = layer_norm(p, "encoderNorm", x)
    q = p["queries"]
    for i in range(DEC):
        h = layer_norm(p, f"decoder{i}_norm1", q)
        q = q + attention(p, f"decoder{i}_selfAttn", h, h)
        q = q + attention(p, f"decoder{i}_crossAttn", layer_norm(p, f"decoder{i}_norm2", q), memory)
        q = q + ffn(p, f"decoder{i}_ffn", layer_norm(p, f"decoder{i}_norm3", q))
    q = layer_norm(p, "decoderNorm", q)
    v = F.normalize(ffn(p, "embeddingHead", q), dim=-1, eps=1e-12)
    s = F.normalize(ffn(p, "startHead", q), dim=-1, eps=1e-12)
    e = F.normalize(ffn(p, "endHead", q), dim=-1, eps=1e-12)
    grid = torch.stack([interp(te, (f + 0.5) / t) for f in range(t)])
    grid = grid / grid.norm(dim=-1, keepdim=True)
    scale, bias = p["logitScale"].exp(), p["logitBias"]
    cos_s = (s @ grid.T).max(dim=-1).values
    cos_e = (e @ grid.T).max(dim=-1).values
    score = torch.sigmoid(scale * cos_s + bias) * torch.sigmoid(scale * cos_e + bias)
    return v, s, e, score


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "model/src/test/resources/laviti-golden.npz"
    gen = torch.Generator().manual_seed(20261130)
    p = params(gen)
    arrays = {"config": np.array([C, TEXT, D, L, ENC, DEC, HEADS, FFN, M, K], dtype=np.int32),
              "fps": np.array([FPS], dtype=np.float32)}
    for k, v in p.items():
        arrays[k] = v.numpy().astype(np.float32)
    for i, lengths in enumerate(CASES):
        arrays[f"case{i}_lengths"] = np.array(lengths, dtype=np.int32)
        outs = []
        for j, t in enumerate(lengths):
            w = torch.randn(t, C, generator=gen, dtype=torch.float64)
            w = (w / w.norm(dim=-1, keepdim=True)).float().double()
            arrays[f"case{i}_w{j}"] = w.numpy().astype(np.float32)
            outs.append(forward(p, w))
        for n, name in enumerate(["v", "s", "e", "score"]):
            arrays[f"case{i}_{name}"] = torch.stack([o[n] for o in outs]).numpy().astype(np.float32)
    np.savez(out, **arrays)
    print(f"wrote {out}: {len(arrays)} arrays, torch {torch.__version__}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
