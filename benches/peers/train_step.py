#!/usr/bin/env python3
"""PyTorch peer of `cargo bench -p moravec-agents --bench train_step`: the same four architectures
(small preset: 64x64 frames, 8x8 patches, width 64, hidden 256, context 8, horizon 4, 2-d actions),
one AdamW training step at batch 64, median of several steps, on the CPU.

Run by hand:  python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy
              /tmp/torch/bin/python benches/peers/train_step.py [--threads 2] [--steps 5]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZE, PATCH, DIM, HIDDEN, EXPANDER, CONTEXT, HORIZON, ACTIONS, BATCH = 64, 8, 64, 256, 256, 8, 4, 2, 64
TOKENS = (SIZE // PATCH) ** 2
PATCH_DIM = 3 * PATCH * PATCH


def patchify(x):
    m, c, s, _ = x.shape
    g = s // PATCH
    return x.reshape(m, c, g, PATCH, g, PATCH).permute(0, 2, 4, 1, 3, 5).reshape(m, g * g, c * PATCH * PATCH)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(PATCH_DIM, DIM)
        self.pos = nn.Parameter(torch.zeros(TOKENS, DIM))
        self.fc1, self.fc2 = nn.Linear(DIM, HIDDEN), nn.Linear(HIDDEN, DIM)
        self.norm = nn.LayerNorm(DIM)

    def forward(self, frames):  # [B, L, 3, S, S] -> [B, L, N, D]
        b, l = frames.shape[:2]
        h = self.embed(patchify(frames.reshape(b * l, 3, SIZE, SIZE))) + self.pos
        h = h + self.fc2(F.gelu(self.fc1(h), approximate="tanh"))
        return self.norm(h).reshape(b, l, TOKENS, DIM)


class Predictor(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.temporal = nn.Linear(CONTEXT * dim, HIDDEN)
        self.action = nn.Linear(CONTEXT * ACTIONS, HIDDEN)
        self.mix = nn.Linear(TOKENS, TOKENS)
        self.hidden, self.out = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, dim)

    def step(self, ctx, acts):
        b, c, n, d = ctx.shape
        h = self.temporal(ctx.permute(0, 2, 1, 3).reshape(b, n, c * d))
        h = F.gelu(h + self.action(acts.reshape(b, c * ACTIONS)).unsqueeze(1), approximate="tanh")
        h = h + F.gelu(self.mix(h.transpose(1, 2)).transpose(1, 2), approximate="tanh")
        return ctx[:, -1] + self.out(F.gelu(self.hidden(h), approximate="tanh"))

    def rollout(self, ctx, actions, steps):
        preds = []
        for k in range(steps):
            nxt = self.step(ctx, actions[:, k:k + CONTEXT])
            ctx = torch.cat([ctx[:, 1:], nxt.unsqueeze(1)], 1)
            preds.append(nxt)
        return torch.stack(preds, 1)


def var_cov(z):
    n, d = z.shape
    z = z - z.mean(0)
    std = torch.sqrt(z.var(0) + 1e-4)
    cov = z.T @ z / (n - 1)
    off = cov - torch.diag(torch.diag(cov))
    return F.relu(1 - std).mean(), off.pow(2).sum() / d


class JepaVicreg(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.predictor = Encoder(), Predictor(DIM)
        self.expander = nn.Sequential(nn.Linear(DIM, EXPANDER), nn.GELU(approximate="tanh"), nn.Linear(EXPANDER, EXPANDER))

    def loss(self, frames, actions):
        z = self.encoder(frames)
        pred = self.predictor.rollout(z[:, :CONTEXT], actions[:, :CONTEXT + HORIZON - 1], HORIZON)
        prediction = F.mse_loss(pred, z[:, CONTEXT:])
        vx, cx = var_cov(self.expander(z[:, CONTEXT - 1].reshape(-1, DIM)))
        vy, cy = var_cov(self.expander(z[:, -1].reshape(-1, DIM)))
        return 25 * prediction + 25 * (vx + vy) / 2 + (cx + cy)


class JepaEma(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.predictor = Encoder(), Predictor(DIM)
        self.target = Encoder()
        self.target.load_state_dict(self.encoder.state_dict())
        for p in self.target.parameters():
            p.requires_grad_(False)

    def loss(self, frames, actions):
        ctx = self.encoder(frames[:, :CONTEXT])
        with torch.no_grad():
            tgt = F.layer_norm(self.target(frames[:, CONTEXT:]), (DIM,))
        pred = self.predictor.rollout(ctx, actions[:, :CONTEXT + HORIZON - 1], HORIZON)
        return (pred - tgt).abs().mean()

    @torch.no_grad()
    def after_step(self, m=0.996):
        for t, o in zip(self.target.parameters(), self.encoder.parameters()):
            t.mul_(m).add_(o, alpha=1 - m)


class PixelAe(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.predictor = Encoder(), Predictor(DIM)
        self.decoder = nn.Sequential(nn.Linear(DIM, HIDDEN), nn.GELU(approximate="tanh"), nn.Linear(HIDDEN, PATCH_DIM))

    def loss(self, frames, actions):
        b, l = frames.shape[:2]
        pixels = patchify(frames.reshape(b * l, 3, SIZE, SIZE)).reshape(b, l, TOKENS, PATCH_DIM)
        z = self.encoder(frames[:, :CONTEXT])  # only the context: the targets are pixels
        pred = self.decoder(self.predictor.rollout(z, actions[:, :CONTEXT + HORIZON - 1], HORIZON))
        return F.mse_loss(pred, pixels[:, CONTEXT:]) + F.mse_loss(self.decoder(z), pixels[:, :CONTEXT])


class PixelVideo(nn.Module):
    def __init__(self):
        super().__init__()
        self.predictor = Predictor(PATCH_DIM)

    def loss(self, frames, actions):
        b, l = frames.shape[:2]
        x = patchify(frames.reshape(b * l, 3, SIZE, SIZE)).reshape(b, l, TOKENS, PATCH_DIM)
        pred = self.predictor.rollout(x[:, :CONTEXT], actions[:, :CONTEXT + HORIZON - 1], HORIZON)
        return F.mse_loss(pred, x[:, CONTEXT:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    window = CONTEXT + HORIZON
    frames = torch.rand(BATCH, window, 3, SIZE, SIZE)
    actions = torch.rand(BATCH, window, ACTIONS) * 2 - 1
    for name, cls in [("jepa-vicreg", JepaVicreg), ("jepa-ema", JepaEma), ("pixel-ae", PixelAe), ("pixel-video", PixelVideo)]:
        model = cls()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)
        times = []
        for i in range(args.steps + 1):
            t0 = time.perf_counter()
            opt.zero_grad()
            model.loss(frames, actions).backward()
            opt.step()
            if hasattr(model, "after_step"):
                model.after_step()
            if i > 0:
                times.append(time.perf_counter() - t0)
        print(f"{name:12} train step (batch {BATCH}): median {statistics.median(times) * 1000:.0f} ms")
    enc = Encoder()
    x = torch.rand(1, 256, 3, SIZE, SIZE)
    with torch.no_grad():
        enc(x)
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            enc(x)
            times.append(time.perf_counter() - t0)
    print(f"encoder inference: {256 / statistics.median(times):.0f} frames/s")


if __name__ == "__main__":
    main()
