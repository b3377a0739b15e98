#!/usr/bin/python3
"""PyTorch reference of the Moments LAVITI network (model/src/main/java/dev/moments/model/nn).

Same architecture as the DJL blocks: conv tokenizer (kernel = stride = 7, last token padded by
repeating the last frame), token LayerNorm, learnable TEs interpolated to the tokens by a dense
[N, L] weight matrix, pre-norm transformer encoder, DETR decoder with M learnable queries,
FFN heads (L2-normalized), SigLIP sigmoid loss over the three similarity types, Adam with
global-norm clipping. Times one training step (forward + loss + backward + Adam) on 600 s
chunks and forward-only windows/s, on CPU with a fixed thread count.

NOTE: the DJL trainer matches predictions to narrations with a Hungarian solver in Java (100 x
100, well under 1 ms); this script uses the identity matching instead (no SciPy here), which
leaves the tensor work identical.

Run by `moments bench train` / `bench index` under every PyTorch found (Debian's python3-torch
and the 2.x CPU wheel), in the environment of torch_env.py; by hand:
  /usr/bin/python3 bench/laviti_reference.py --batch 1,8 --steps 3 --warmup 1 --json
"""
import argparse
import json
import math
import sys
import time

import torch_env  # bench/, next to this script

if __name__ == "__main__":
  torch_env.ensure(sys.argv)  # threads and allocator, before torch loads (see torch_env.py)

import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.norm1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, ffn), nn.ReLU(), nn.Linear(ffn, d))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.ffn(self.norm2(x))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.norm1 = nn.LayerNorm(d)
        self.self_attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(d)
        self.cross_attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm3 = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, ffn), nn.ReLU(), nn.Linear(ffn, d))

    def forward(self, q, memory):
        h = self.norm1(q)
        q = q + self.self_attn(h, h, h, need_weights=False)[0]
        h = self.norm2(q)
        q = q + self.cross_attn(h, memory, memory, need_weights=False)[0]
        return q + self.ffn(self.norm3(q))


def head(d, out):
    return nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, out))


def sinusoidal(length, dim):
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    i = torch.arange(0, dim, 2, dtype=torch.float32)
    freq = torch.pow(10000.0, -i / dim)
    e = torch.zeros(length, dim)
    e[:, 0::2] = torch.sin(pos * freq)
    e[:, 1::2] = torch.cos(pos * freq)
    return e


class Laviti(nn.Module):
    def __init__(self, c=1024, text=1024, d=512, l=1024, enc=6, dec=6, heads=8, ffn=2048, m=100, k=7):
        super().__init__()
        self.k = k
        self.tokenizer = nn.Conv1d(c, d, k, stride=k)
        self.token_norm = nn.LayerNorm(d)
        self.te = nn.Parameter(sinusoidal(l, d))
        self.encoder = nn.ModuleList([EncoderLayer(d, heads, ffn) for _ in range(enc)])
        self.encoder_norm = nn.LayerNorm(d)
        self.queries = nn.Parameter(torch.randn(m, d))
        self.decoder = nn.ModuleList([DecoderLayer(d, heads, ffn) for _ in range(dec)])
        self.decoder_norm = nn.LayerNorm(d)
        self.embedding_head = head(d, text)
        self.start_head = head(d, d)
        self.end_head = head(d, d)
        self.logit_scale = nn.Parameter(torch.tensor([math.log(10.0)]))
        self.logit_bias = nn.Parameter(torch.tensor([-10.0]))

    def forward(self, frames, te_weights):
        tokens = self.tokenizer(frames.transpose(1, 2)).transpose(1, 2)
        x = self.token_norm(tokens) + te_weights @ self.te
        for layer in self.encoder:
            x = layer(x)
        memory = self.encoder_norm(x)
        q = self.queries.unsqueeze(0).expand(frames.shape[0], -1, -1)
        for layer in self.decoder:
            q = layer(q, memory)
        q = self.decoder_norm(q)
        return (F.normalize(self.embedding_head(q), dim=-1), F.normalize(self.start_head(q), dim=-1),
                F.normalize(self.end_head(q), dim=-1))


def interp_weights(positions, length):
    """Dense [n, L] linear-interpolation weights of relative positions (TemporalEmbeddings.weights)."""
    w = torch.zeros(len(positions), length)
    for p, r in enumerate(positions):
        x = min(max(r, 0.0), 1.0) * (length - 1)
        lo = min(int(math.floor(x)), length - 2)
        up = x - lo
        w[p, lo] += 1 - up
        w[p, lo + 1] += up
    return w


def token_weights(frames, k, length):
    n = max(1, (frames + k - 1) // k)
    return interp_weights([min(1.0, (k * j + k / 2.0) / frames) for j in range(n)], length)


def sigmoid_loss(cos, scale, bias):
    m, g = cos.shape
    y = -torch.ones(m, g)
    y[torch.arange(g), torch.arange(g)] = 1.0  # identity matching (see NOTE)
    return F.softplus(-y * (cos * scale + bias)).sum() / g


def bench(batch, steps, warmup, t=3600, c=1024, text=1024, g=100, seed=0, train=True):
    torch.manual_seed(seed)
    model = Laviti(c=c, text=text)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    k = model.k
    n = max(1, (t + k - 1) // k)
    frames = F.normalize(torch.randn(batch, t, c), dim=-1)
    frames = torch.cat([frames, frames[:, -1:, :].expand(batch, n * k - t, c)], dim=1)
    tw = token_weights(t, k, model.te.shape[0]).unsqueeze(0).expand(batch, -1, -1).contiguous()
    texts = [F.normalize(torch.randn(g, text), dim=-1) for _ in range(batch)]
    gt_pos = [(torch.rand(g).tolist(), torch.rand(g).tolist()) for _ in range(batch)]
    gt_w = [(interp_weights(s, model.te.shape[0]), interp_weights(e, model.te.shape[0])) for s, e in gt_pos]
    times = []
    for i in range(warmup + steps if train else 0):
        t0 = time.perf_counter()
        v, s, e = model(frames, tw)
        scale = model.logit_scale.exp()
        loss = 0
        for b in range(batch):
            s_gt = F.normalize(gt_w[b][0] @ model.te, dim=-1)
            e_gt = F.normalize(gt_w[b][1] @ model.te, dim=-1)
            loss = loss + sigmoid_loss(v[b] @ texts[b].T, scale, model.logit_bias) \
                + sigmoid_loss(s[b] @ s_gt.T, scale, model.logit_bias) \
                + sigmoid_loss(e[b] @ e_gt.T, scale, model.logit_bias)
        loss = loss / batch
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    def infer(x, w):
        v, s, e = model(x, w)
        if not train:  # the indexer's path: start/end = argmax of similarity to the TEs
            te = F.normalize(model.te, dim=-1)
            (s @ te.T).argmax(dim=-1).tolist(), (e @ te.T).argmax(dim=-1).tolist()
        return v

    with torch.no_grad():
        one = frames[:1]
        for _ in range(max(1, warmup if not train else 1)):  # steady state, as a running indexer
            infer(one, tw[:1])
        t0 = time.perf_counter()
        reps = max(1, steps)
        for _ in range(reps):
            infer(one, tw[:1])
        fwd_ms = (time.perf_counter() - t0) * 1000 / reps
    return {"batch": batch, "ms_per_step": sum(times) / len(times) if times else None, "steps": steps,
            "forward_ms_batch1": fwd_ms, "windows_per_sec": 1000.0 / fwd_ms}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="1,8")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=3600)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--forward-only", action="store_true",
                    help="skip the training steps; time --steps forward passes of one window "
                         "with the start/end argmax (what `bench index` compares)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    for b in [int(x) for x in a.batch.split(",")]:
        r = bench(b, a.steps, a.warmup, t=a.frames, train=not a.forward_only)
        r["threads"] = a.threads
        r["torch"] = torch.__version__
        if a.json or a.forward_only:
            print(json.dumps(r), flush=True)
        else:
            print("pytorch batch %d: %.1f ms/step (forward-only %.1f ms/window, %.2f windows/s)"
                  % (b, r["ms_per_step"], r["forward_ms_batch1"], r["windows_per_sec"]), flush=True)


if __name__ == "__main__":
    main()
