#!/usr/bin/python3
"""PyTorch reference fixtures for ar1's parity tests (tests/fixtures/*.safetensors).

Run from anywhere, with a Python that has torch (Debian's python3-torch; CPU only):

    /usr/bin/python3 tools/make_fixtures.py            # (re)writes every fixture
    /usr/bin/python3 tools/make_fixtures.py --list     # prints every fixture's tensors
    /usr/bin/python3 tools/make_fixtures.py --out DIR  # writes somewhere else

Deterministic: float32, one thread, torch.use_deterministic_algorithms(True) and a fixed seed
per case, so re-running gives the same bytes on the same PyTorch build.

Layout of a per-layer case (conv_*, linear*, avgpool_global, relu, cross_entropy): the op's
inputs and weights under their own names (x, w, b, logits, labels), `out`, a fixed random
upstream gradient `g` of out's shape, and `grad.<input>` = d(sum(out * g)) / d(input) for every
float input. The op's hyper-parameters are strings in the file's __metadata__ ("op", "stride",
...). batchrenorm.safetensors and mobilenet_a025.safetensors are described at their writers.

To add a case: write a function that builds its tensors from a seed and calls
layer_case() (or save()), then list it in CASES.
"""

import argparse
import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_pytorch_weights import read_safetensors, write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "tests", "fixtures")


def save(out_dir, name, tensors, metadata):
    path = os.path.join(out_dir, name + ".safetensors")
    write_safetensors(path, {k: v.detach().contiguous() for k, v in tensors.items()},
                      {k: str(v) for k, v in metadata.items()})
    return path


# ---------------------------------------------------------------- per-layer cases

def layer_case(out_dir, name, fn, inputs, metadata):
    """Runs out = fn(**inputs), backpropagates a random g and saves everything."""
    leaves = {k: v.clone().requires_grad_(v.is_floating_point()) for k, v in inputs.items()}
    out = fn(**leaves)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    tensors = dict(inputs)
    tensors["out"] = out
    tensors["g"] = g
    for k, v in leaves.items():
        if v.requires_grad:
            tensors["grad." + k] = v.grad
    save(out_dir, name, tensors, metadata)


def conv_cases(out_dir):
    specs = [  # name, x shape, w shape, stride, padding, groups
        ("conv_dense", (2, 3, 9, 9), (5, 3, 3, 3), 1, 1, 1),
        ("conv_dense_s2", (2, 3, 9, 9), (5, 3, 3, 3), 2, 1, 1),
        ("conv_depthwise", (2, 6, 8, 8), (6, 1, 3, 3), 1, 1, 6),
        ("conv_depthwise_s2", (2, 6, 8, 8), (6, 1, 3, 3), 2, 1, 6),
        ("conv_pointwise", (2, 7, 5, 5), (4, 7, 1, 1), 1, 0, 1),
    ]
    for seed, (name, xs, ws, stride, pad, groups) in enumerate(specs, start=100):
        torch.manual_seed(seed)
        x, w = torch.randn(xs), torch.randn(ws)
        layer_case(out_dir, name,
                   lambda x, w, s=stride, p=pad, gr=groups: F.conv2d(x, w, None, s, p, 1, gr),
                   {"x": x, "w": w},
                   {"op": "conv2d", "stride": stride, "padding": pad, "groups": groups,
                    "dilation": 1, "bias": "false"})


def linear_cases(out_dir):
    torch.manual_seed(200)
    x, w = torch.randn(4, 10), torch.randn(3, 10)
    layer_case(out_dir, "linear", lambda x, w: F.linear(x, w), {"x": x, "w": w},
               {"op": "linear", "bias": "false"})
    torch.manual_seed(201)
    x, w, b = torch.randn(4, 10), torch.randn(3, 10), torch.randn(3)
    layer_case(out_dir, "linear_bias", lambda x, w, b: F.linear(x, w, b),
               {"x": x, "w": w, "b": b}, {"op": "linear", "bias": "true"})


def avgpool_case(out_dir):
    torch.manual_seed(300)
    layer_case(out_dir, "avgpool_global", lambda x: F.adaptive_avg_pool2d(x, 1),
               {"x": torch.randn(2, 4, 5, 5)}, {"op": "avgpool_global", "output": "1x1"})


def relu_case(out_dir):
    torch.manual_seed(400)
    x = torch.randn(2, 3, 4, 4)
    x = torch.where(x.abs() < 0.05, x + 0.1 * torch.sign(x + 1e-12), x)  # away from the kink
    assert x.abs().min() >= 0.05
    layer_case(out_dir, "relu", lambda x: F.relu(x), {"x": x}, {"op": "relu"})


def cross_entropy_case(out_dir):
    torch.manual_seed(500)
    logits = torch.randn(5, 7) * 2
    labels = torch.tensor([0, 6, 3, 3, 1], dtype=torch.int64)
    layer_case(out_dir, "cross_entropy",
               lambda logits, labels: F.cross_entropy(logits, labels, reduction="mean"),
               {"logits": logits, "labels": labels},
               {"op": "cross_entropy", "reduction": "mean"})


# ---------------------------------------------------------------- BatchReNorm (SPEC.md 2)

class BatchReNorm2d(nn.Module):
    """SPEC.md section 2: per-channel over N, H, W; r and d are constants for autograd."""

    def __init__(self, channels, momentum=0.01, r_max=1.0, d_max=0.0, inc=4.1e-5,
                 max_r_max=1.25, max_d_max=0.5, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_std", torch.ones(channels))
        self.momentum, self.eps, self.inc = momentum, eps, inc
        self.r_max, self.d_max = r_max, d_max
        self.max_r_max, self.max_d_max = max_r_max, max_d_max
        self.last = None  # r, d and batch statistics of the last training forward

    def forward(self, x):
        c = (1, -1, 1, 1)
        if not self.training:
            return (self.gamma.view(c) * (x - self.running_mean.view(c)) /
                    self.running_std.view(c) + self.beta.view(c))
        mu_b = x.mean(dim=(0, 2, 3))
        s_b = torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False) + self.eps)
        with torch.no_grad():
            r = torch.clamp(s_b / self.running_std, 1.0 / self.r_max, self.r_max)
            d = torch.clamp((mu_b - self.running_mean) / self.running_std,
                            -self.d_max, self.d_max)
        xh = (x - mu_b.view(c)) / s_b.view(c)
        y = self.gamma.view(c) * (xh * r.view(c) + d.view(c)) + self.beta.view(c)
        with torch.no_grad():
            raw_r = s_b / self.running_std
            raw_d = (mu_b - self.running_mean) / self.running_std
            self.last = {"r": r, "d": d, "mu_b": mu_b.detach().clone(),
                         "s_b": s_b.detach().clone(),
                         "r_clipped": int(((raw_r > self.r_max) |
                                           (raw_r < 1.0 / self.r_max)).sum()),
                         "d_clipped": int((raw_d.abs() > self.d_max).sum())}
            n = x.shape[0]
            if self.r_max < self.max_r_max:
                self.r_max += self.inc * n
            if self.d_max < self.max_d_max:
                self.d_max += self.inc * n
            self.running_mean += self.momentum * (mu_b - self.running_mean)
            self.running_std += self.momentum * (s_b - self.running_std)
        return y


def brn_closed_form(x, g, gamma, r, d, mu_b, s_b):
    """SPEC.md section 2's backward, in float64."""
    x, g, gamma, r, d, mu_b, s_b = (t.double() for t in (x, g, gamma, r, d, mu_b, s_b))
    c = (1, -1, 1, 1)
    xh = (x - mu_b.view(c)) / s_b.view(c)
    dbeta = g.sum(dim=(0, 2, 3))
    dgamma = (g * (r.view(c) * xh + d.view(c))).sum(dim=(0, 2, 3))
    gx = gamma.view(c) * r.view(c) * g
    mean = lambda t: t.mean(dim=(0, 2, 3), keepdim=True)  # noqa: E731
    dx = (gx - mean(gx) - xh * mean(gx * xh)) / s_b.view(c)
    return dx, dgamma, dbeta


def batchrenorm_case(out_dir):
    """batchrenorm.safetensors: one training forward/backward with r and d clipping on some
    channels, then the eval forward with the updated running statistics.

    Tensors: x [4,6,5,5], gamma, beta, running_mean, running_std (before), y, g, grad.x,
    grad.gamma, grad.beta, r, d (as used), batch_mean, batch_std (s_B, with eps),
    running_mean_after, running_std_after, y_eval (eval forward of x with the *_after stats).
    """
    torch.manual_seed(600)
    channels = 6
    scale = torch.tensor([1.0, 2.0, 0.5, 1.5, 0.8, 1.2])
    shift = torch.tensor([0.0, 1.0, -2.0, 0.5, 3.0, -0.5])
    x = torch.randn(4, channels, 5, 5) * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)
    # Running statistics chosen from the batch's own so that, with r_max 1.25 and d_max 0.5,
    # r clips high (ch 2, 5), clips low (ch 3), stays free (0, 1, 4); d clips (3, 4) or not.
    ratio = torch.tensor([1.1, 0.9, 2.0, 0.5, 1.0, 1.3])
    d_target = torch.tensor([0.2, -0.3, 0.1, -0.9, 1.5, 0.0])
    mu_b = x.mean(dim=(0, 2, 3))
    s_b = torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False) + 1e-5)
    running_std = s_b / ratio
    running_mean = mu_b - d_target * running_std

    hyper = {"eps": 1e-5, "momentum": 0.1, "r_max": 1.25, "d_max": 0.5, "inc": 4.1e-5,
             "max_r_max": 3.0, "max_d_max": 5.0}
    m = BatchReNorm2d(channels, momentum=hyper["momentum"], r_max=hyper["r_max"],
                      d_max=hyper["d_max"], inc=hyper["inc"], max_r_max=hyper["max_r_max"],
                      max_d_max=hyper["max_d_max"], eps=hyper["eps"])
    with torch.no_grad():
        m.gamma.copy_(1 + 0.3 * torch.randn(channels))
        m.beta.copy_(0.3 * torch.randn(channels))
        m.running_mean.copy_(running_mean)
        m.running_std.copy_(running_std)
    before = {"gamma": m.gamma.detach().clone(), "beta": m.beta.detach().clone(),
              "running_mean": m.running_mean.clone(), "running_std": m.running_std.clone()}

    m.train()
    xl = x.clone().requires_grad_(True)
    y = m(xl)
    g = torch.randn(y.shape)
    (y * g).sum().backward()
    last = m.last
    assert last["r_clipped"] == 3 and last["d_clipped"] == 2, last
    free = ((last["r"] > 1 / 1.25 + 1e-3) & (last["r"] < 1.25 - 1e-3)).sum()
    assert free == 3, last["r"]

    # Autograd through the forward (r, d detached) agrees with SPEC.md's closed form.
    dx, dgamma, dbeta = brn_closed_form(x, g, m.gamma.detach(), last["r"], last["d"],
                                        last["mu_b"], last["s_b"])
    assert torch.allclose(xl.grad.double(), dx, rtol=1e-4, atol=1e-5), \
        (xl.grad.double() - dx).abs().max()
    assert torch.allclose(m.gamma.grad.double(), dgamma, rtol=1e-4, atol=1e-4)
    assert torch.allclose(m.beta.grad.double(), dbeta, rtol=1e-4, atol=1e-4)

    after = {"running_mean_after": m.running_mean.clone(),
             "running_std_after": m.running_std.clone()}
    m.eval()
    with torch.no_grad():
        y_eval = m(x)
    tensors = {"x": x, **before, "y": y, "g": g, "grad.x": xl.grad, "grad.gamma": m.gamma.grad,
               "grad.beta": m.beta.grad, "r": last["r"], "d": last["d"],
               "batch_mean": last["mu_b"], "batch_std": last["s_b"], **after,
               "y_eval": y_eval}
    meta = {"op": "batchrenorm2d", **{k: repr(v) for k, v in hyper.items()},
            "r_max_after": repr(m.r_max), "d_max_after": repr(m.d_max),
            "r_clipped_channels": "2,3,5", "d_clipped_channels": "3,4",
            "y_eval": "eval forward of x with running_*_after"}
    save(out_dir, "batchrenorm", tensors, meta)


# ---------------------------------------------------------------- MobileNetV1 (SPEC.md 1)

class ConvBlock(nn.Module):
    """conv (no bias) -> BatchReNorm2d -> ReLU; names conv.weight, bn.*."""

    def __init__(self, cin, cout, kernel, stride, groups, brn):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups,
                              bias=False)
        self.bn = BatchReNorm2d(cout, **brn)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class MobileNetV1(nn.Module):
    # (pw output channels, dw stride) of layers 1..26 in (dw, pw) pairs, SPEC.md section 1.
    PAIRS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
            [(1024, 2), (1024, 1)]

    def __init__(self, alpha=1.0, num_classes=10, latent_layer_num=19, brn=None):
        super().__init__()
        brn = brn or {}
        width = lambda c: int(c * alpha)  # noqa: E731
        layers = [ConvBlock(3, width(32), 3, 2, 1, brn)]
        cin = width(32)
        for cout, stride in self.PAIRS:
            layers.append(ConvBlock(cin, cin, 3, stride, cin, brn))  # depthwise
            layers.append(ConvBlock(cin, width(cout), 1, 1, 1, brn))  # pointwise
            cin = width(cout)
        assert len(layers) == 27
        self.lat_features = nn.Sequential(*layers[:latent_layer_num + 1])
        # Layer 27, the average pool over the whole map, ends end_features (no parameters).
        self.end_features = nn.Sequential(*layers[latent_layer_num + 1:],
                                          nn.AdaptiveAvgPool2d(1))
        self.output = nn.Linear(cin, num_classes, bias=False)

    def forward(self, x, latent_input=None):
        lat = self.lat_features(x)
        z = lat if latent_input is None else torch.cat([lat, latent_input], 0)
        return self.output(torch.flatten(self.end_features(z), 1))

    def brns(self):
        return [m for m in self.modules() if isinstance(m, BatchReNorm2d)]


# Margins of mobilenet_a025 (see mobilenet_condition): the smallest |ReLU input| / (largest
# |input| of its channel) allowed in layers [first, last], about 20x the float32 rounding drift
# measured between two ISAs' kernels at that depth; and the smallest relative distance of every
# BatchReNorm's unclipped r and d from their clip bounds.
MOBILENET_RELU_MARGINS = [(0, 10, 1e-4), (11, 19, 3e-4), (20, 26, 3e-3)]
MOBILENET_CLIP_MARGIN = 1e-3
MOBILENET_CLEARANCE = 1.1  # a correction aims this far past a margin (the max moves too)


def smallest_clear_shift(lo, hi):
    """The s of smallest |s| that lies in none of the open intervals (lo[i], hi[i])."""
    cands = torch.cat([torch.zeros(1, dtype=lo.dtype), lo, hi])
    for s in cands[cands.abs().argsort()].tolist():
        if not bool(((lo < s) & (s < hi)).any()):
            return s
    raise AssertionError("unreachable: an interval's end lies in no open interval of its own")


def brn_train64(bn, z):
    """BatchReNorm2d's train forward in float64 (no running-statistics update): the ReLU's
    input, the unclipped r and d [C], and their relative distances from the clip bounds [C]."""
    c = (1, -1, 1, 1)
    gamma, beta, rm, rs = (t.detach().double() for t in
                           (bn.gamma, bn.beta, bn.running_mean, bn.running_std))
    mu_b = z.mean(dim=(0, 2, 3))
    s_b = torch.sqrt(z.var(dim=(0, 2, 3), unbiased=False) + bn.eps)
    raw_r, raw_d = s_b / rs, (mu_b - rm) / rs
    r = raw_r.clamp(1.0 / bn.r_max, bn.r_max)
    d = raw_d.clamp(-bn.d_max, bn.d_max)
    pre = gamma.view(c) * ((z - mu_b.view(c)) / s_b.view(c) * r.view(c) + d.view(c)) + \
        beta.view(c)
    r_margin = torch.minimum((raw_r / bn.r_max - 1).abs(), (raw_r * bn.r_max - 1).abs())
    d_margin = (raw_d.abs() - bn.d_max).abs() / bn.d_max
    return pre, raw_r, raw_d, r_margin, d_margin


def relu_margin64(pre):
    """Per channel: min |pre| / max |pre| (ReluMarginMonitor's measure)."""
    v = pre.abs()
    return (v / v.amax(dim=(0, 2, 3), keepdim=True).clamp(min=1e-30)).amin(dim=(0, 2, 3))


def mobilenet_condition(model, x, latent_input):
    """Moves mobilenet_a025's train-mode forwards away from ties that another float32
    implementation could break the other way; returns the margins reached.

    A ReLU input within rounding of zero flips the ReLU's mask under another ISA's summation
    order (the fixture's first version had -4.6e-7 in PyTorch, +4.8e-8 with AVX2 FMAs, at
    lat_features.11), and every lower layer's gradient then differs by a whole term (4% there,
    20% in the latent case). A raw r or d at its clip bound does the same to r's and d's
    gradients. So, walking the layers in order in float64 with both forwards that
    backpropagate (the training batch x, and above the split cat(lat_features(x), latent_input)):
      1. a channel whose raw r or d lies within MOBILENET_CLIP_MARGIN (relative) of a clip
         bound gets its running_std scaled (r), then its running_mean moved (d), by the
         smallest amount that clears both batches;
      2. a channel whose ReLU input has min |v| < margin * max |v| gets its beta shifted by the
         smallest +-delta that clears it in both batches (in train mode the ReLU input is
         gamma (r xhat + d) + beta: delta moves every value by delta and nothing else);
    then the next layer sees the corrected output. Changes only betas (each by at most a few
    percent of its channel's largest |ReLU input|) and running statistics (by ~1e-3 relative).
    Eval mode runs no backward and needs no margin."""
    blocks = list(model.lat_features) + list(model.end_features)[:-1]
    split = len(model.lat_features)
    h = {"x": x.double()}
    relu_min, clip_min, largest_shift = math.inf, math.inf, 0.0
    for i, block in enumerate(blocks):
        if i == split:
            h["latent"] = torch.cat([h["x"], latent_input.double()])
        margin = next(m for first, last, m in MOBILENET_RELU_MARGINS if first <= i <= last)
        bn, conv = block.bn, block.conv
        z = {k: F.conv2d(v, conv.weight.double(), None, conv.stride, conv.padding, 1,
                         conv.groups) for k, v in h.items()}
        run = lambda: {k: brn_train64(bn, v) for k, v in z.items()}  # noqa: E731
        # 1. r: raw_r' = raw_r exp(-t) after running_std *= exp(t); clear both bounds.
        out = run()
        for c in range(bn.gamma.numel()):
            if all(float(o[3][c]) >= MOBILENET_CLIP_MARGIN for o in out.values()):
                continue
            w = MOBILENET_CLEARANCE * MOBILENET_CLIP_MARGIN
            cen = torch.tensor([math.log(float(o[1][c])) + sign * math.log(bn.r_max)
                                for o in out.values() for sign in (-1, 1)], dtype=torch.float64)
            bn.running_std[c] *= math.exp(smallest_clear_shift(cen - w, cen + w))
        # ... d: raw_d' = raw_d - s after running_mean += s running_std.
        out = run()
        for c in range(bn.gamma.numel()):
            if all(float(o[4][c]) >= MOBILENET_CLIP_MARGIN for o in out.values()):
                continue
            w = MOBILENET_CLEARANCE * MOBILENET_CLIP_MARGIN * bn.d_max
            cen = torch.tensor([float(o[2][c]) + sign * bn.d_max
                                for o in out.values() for sign in (-1, 1)], dtype=torch.float64)
            bn.running_mean[c] += smallest_clear_shift(cen - w, cen + w) * bn.running_std[c]
        # 2. beta: every ReLU input v of the channel moves to v + delta.
        out = run()
        for c in range(bn.gamma.numel()):
            if all(float(relu_margin64(o[0])[c]) >= margin for o in out.values()):
                continue
            cen, half = [], []
            for o in out.values():
                v = o[0][:, c].reshape(-1)
                cen.append(-v)
                half.append(torch.full_like(
                    v, MOBILENET_CLEARANCE * margin * float(v.abs().max())))
            cen, half = torch.cat(cen), torch.cat(half)
            delta = smallest_clear_shift(cen - half, cen + half)
            bn.beta[c] += delta
            largest_shift = max(largest_shift, abs(delta))
        out = run()
        for k, o in out.items():
            got = float(relu_margin64(o[0]).min())
            clip = min(float(o[3].min()), float(o[4].min()))
            assert got >= margin and clip >= MOBILENET_CLIP_MARGIN, (i, k, got, clip)
            relu_min, clip_min = min(relu_min, got), min(clip_min, clip)
            h[k] = torch.relu(o[0])
    return {"relu": relu_min, "clip": clip_min, "beta_shift": largest_shift}


def mobilenet_case(out_dir):
    """mobilenet_a025.safetensors: alpha 0.25, 10 classes, latent_layer_num 19, input
    2x3x64x64, every BatchReNorm in train mode with r_max 1.25, d_max 0.5 (at their caps, so
    no increments), momentum 0.1.

    weights.<name>         every parameter and running statistic before anything runs
    x, y                   input [2,3,64,64] and labels i64 [2]
    logits, loss           train-mode forward, CE (mean)
    grad.<param>           gradients of loss
    running_after.<buf>    running_mean / running_std after that forward
    after_step.<param>     after one SGD step (lr 0.01, momentum 0.9, weight decay 5e-4,
                           PyTorch's convention; momentum buffers start at zero)
    eval_logits            eval-mode forward of x with weights.*
    latent.latent_input    [3,128,4,4], concatenated after lat_features' output
    latent.y               labels i64 [5] of cat(x, latent_input)
    latent.logits, latent.loss, latent.grad.<param>, latent.running_after.<buf>
                           the same train step from weights.* with the latent input

    Betas and running statistics are then nudged (mobilenet_condition) so that no ReLU input of
    either train-mode forward is a near tie and no r or d sits on its clip bound; metadata
    min_relu_margin (float32 forwards, ReluMarginMonitor's measure), relu_margins (the ones
    required per layer range) and min_clip_margin record it.
    """
    torch.manual_seed(700)
    hyper = {"alpha": 0.25, "num_classes": 10, "latent_layer_num": 19}
    brn = {"momentum": 0.1, "r_max": 1.25, "d_max": 0.5, "inc": 4.1e-5, "max_r_max": 1.25,
           "max_d_max": 0.5, "eps": 1e-5}
    sgd = {"lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}
    model = MobileNetV1(brn=brn, **hyper)
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")

    # Realistic running statistics: one plain batch-norm pass (r_max 1, d_max 0, momentum 1)
    # over a calibration batch, then perturbed so that some channels clip and some do not.
    with torch.no_grad():
        for b in model.brns():
            b.gamma.copy_(1 + 0.1 * torch.randn_like(b.gamma))
            b.beta.copy_(0.1 * torch.randn_like(b.beta))
            b.r_max, b.d_max, b.momentum = 1.0, 0.0, 1.0
        model.train()
        model(torch.randn(4, 3, 64, 64))
        for b in model.brns():
            b.running_mean += 0.1 * torch.randn_like(b.running_mean) * b.running_std
            b.running_std *= torch.exp(0.1 * torch.randn_like(b.running_std))
            b.r_max, b.d_max, b.momentum = brn["r_max"], brn["d_max"], brn["momentum"]
    # Both train-mode batches, drawn before the weights are final: they are conditioned on.
    x = torch.randn(2, 3, 64, 64)
    latent_input = torch.relu(torch.randn(3, 128, 4, 4,
                                          generator=torch.Generator().manual_seed(701)))
    with torch.no_grad():
        conditioned = mobilenet_condition(model, x, latent_input)
    initial = copy.deepcopy(model.state_dict())
    params = [n for n, _ in model.named_parameters()]
    buffers = [n for n, _ in model.named_buffers()]

    def fresh():
        m = MobileNetV1(brn=brn, **hyper)
        m.load_state_dict(initial)
        return m

    y = torch.tensor([3, 7], dtype=torch.int64)
    tensors = {"weights." + k: v for k, v in initial.items()}
    tensors.update({"x": x, "y": y})

    # Train step.
    model.train()
    relu_margins = ReluMarginMonitor(model)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    model.zero_grad()
    loss.backward()
    r_clip = sum(b.last["r_clipped"] for b in model.brns())
    d_clip = sum(b.last["d_clipped"] for b in model.brns())
    channels = sum(b.gamma.numel() for b in model.brns())
    assert 0 < r_clip < channels and 0 < d_clip < channels, (r_clip, d_clip, channels)
    assert all(b.r_max == brn["r_max"] and b.d_max == brn["d_max"] for b in model.brns())
    tensors.update({"logits": logits, "loss": loss})
    named = dict(model.named_parameters())
    tensors.update({"grad." + n: named[n].grad for n in params})
    state = model.state_dict()
    tensors.update({"running_after." + n: state[n].clone() for n in buffers})
    opt = torch.optim.SGD(model.parameters(), **sgd)
    opt.step()
    tensors.update({"after_step." + n: named[n].detach().clone() for n in params})
    # The step is PyTorch's v = g + wd w, w -= lr v (first step, zero momentum buffer).
    for n in params:
        w0 = initial[n]
        want = w0 - sgd["lr"] * (tensors["grad." + n] + sgd["weight_decay"] * w0)
        assert torch.allclose(tensors["after_step." + n], want, rtol=0, atol=1e-6), n

    # Eval forward with the initial weights.
    m_eval = fresh().eval()
    with torch.no_grad():
        tensors["eval_logits"] = m_eval(x)

    # Latent replay: 3 latent patterns join after lat_features.
    y_lat = torch.cat([y, torch.tensor([0, 9, 3], dtype=torch.int64)])
    m_lat = fresh().train()
    lat_margins = ReluMarginMonitor(m_lat)
    lat_logits = m_lat(x, latent_input)
    lat_loss = F.cross_entropy(lat_logits, y_lat)
    lat_loss.backward()
    assert lat_logits.shape == (5, 10)
    named_lat = dict(m_lat.named_parameters())
    lat_state = m_lat.state_dict()
    tensors.update({"latent.latent_input": latent_input, "latent.y": y_lat,
                    "latent.logits": lat_logits, "latent.loss": lat_loss})
    tensors.update({"latent.grad." + n: named_lat[n].grad for n in params})
    tensors.update({"latent.running_after." + n: lat_state[n].clone() for n in buffers})
    # The float32 forwards keep mobilenet_condition's float64 margins (to rounding).
    relu_min = min(relu_margins.smallest, lat_margins.smallest)
    assert relu_min > 0.5 * MOBILENET_RELU_MARGINS[0][2], relu_min

    meta = {"model": "mobilenet_v1_brn", **hyper, "input": "2x3x64x64",
            **{"brn_" + k: repr(v) for k, v in brn.items()},
            **{"sgd_" + k: repr(v) for k, v in sgd.items()},
            "loss": "cross_entropy mean", "r_clipped_channels": r_clip,
            "d_clipped_channels": d_clip, "brn_channels": channels,
            "eval_logits": "eval forward of x with weights.*",
            "min_relu_margin": f"{relu_min:.3e}",
            "relu_margins": ", ".join(f"layers {a}-{b} {m:g}"
                                      for a, b, m in MOBILENET_RELU_MARGINS),
            "min_clip_margin": f"{conditioned['clip']:.3e}",
            "latent": "logits = output(flatten(end_features(cat(lat_features(x), "
                      "latent.latent_input))))"}
    save(out_dir, "mobilenet_a025", tensors, meta)


# ---------------------------------------------------------------- AR1 reference run (SPEC.md 3)

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
PRETRAIN_PER_CLASS, PRETRAIN_EPOCHS = 100, 4
DITHER, DITHER_SEED = 24, 6
RELU_MARGIN = 2e-7  # see ReluMarginMonitor


def read_idx_gz(path):
    """An IDX file (gzip) as a uint8 numpy array of its declared shape."""
    import gzip
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_pick(split, classes, counts, skip=0):
    """The first counts[k] images of Fashion-MNIST class classes[k] after `skip` of each, in
    file order, zero-padded from 28x28 to 32x32 and dithered: {class: uint8 [n, 32, 32]}.

    The dither (a random 0..DITHER-1 added to every pixel) breaks up the exactly constant
    background. Without it every background position of a channel holds the same value, so a
    ReLU whose input there is near zero switches hundreds of positions at once: a 1e-6 change
    of the weights then changed AR1's later experiences by up to 40% (measured), and no two
    implementations could agree to 1e-3."""
    import numpy as np
    images = read_idx_gz(os.path.join(FASHION_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx_gz(os.path.join(FASHION_DIR, f"{split}-labels-idx1-ubyte.gz"))
    out = {}
    for c, n in zip(classes, counts):
        rows = np.nonzero(labels == c)[0][skip:skip + n]
        padded = np.pad(images[rows], ((0, 0), (2, 2), (2, 2))).astype(np.int64)
        rng = np.random.default_rng([DITHER_SEED, int(c), skip, len(split)])
        out[c] = np.clip(padded + rng.integers(0, DITHER, padded.shape), 0, 255).astype(np.uint8)
    return out


def unit_rgb(pixels):
    """uint8 [n, H, W] -> float32 [n, 3, H, W]: x / 255 per element (as ar1's scale_to_unit),
    the grey plane repeated three times (grey_to_rgb)."""
    import numpy as np
    x = pixels.astype(np.float32) / np.float32(255)
    return torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1).repeat(1, 3, 1, 1)


class AR1Reference:
    """AR1 written from SPEC.md section 3 (no Avalanche code), with a fixed data order and the
    random draws (memory candidates and slots) made by torch's RNG and returned for the
    fixture. CWR* and the replay memory are plain tensors; SI is off (ewc_lambda 0)."""

    def __init__(self, model, opt, gen):
        self.model, self.o, self.gen = model, opt, gen
        classes = model.output.weight.shape[0]
        self.saved = torch.zeros_like(model.output.weight)
        self.past_j = torch.zeros(classes, dtype=torch.int64)
        self.mem_x, self.mem_y = None, None
        for b in model.brns():  # set-up
            b.momentum, b.inc = opt["init_update_rate"], opt["inc_step"]
            b.max_r_max, b.max_d_max = opt["max_r_max"], opt["max_d_max"]
        self.param_names = [n for n, _ in model.named_parameters()]

    def frozen_names(self):
        """Parameters before the first one of layer freeze_below_layer (exclusive)."""
        point, names = self.o["freeze_below_layer"], []
        for n in self.param_names:
            layer = n.rsplit(".", 1)[0]
            if layer == point or layer.startswith(point + "."):
                return names
            names.append(n)
        raise ValueError(f"freeze_below_layer {point} names no layer")

    def train_experience(self, e, x, y):
        o, m = self.o, self.model
        n_new = x.shape[0]
        rec = {}
        # 1. Modes.
        m.train()
        m.lat_features.eval()
        # 2. Freezing and the BatchReNorm schedule after the first experience.
        if e > 0:
            norm = {n for n, mod in m.named_modules() if isinstance(mod, BatchReNorm2d)}
            for n, p in m.named_parameters():
                if n in self.frozen_names():
                    if n.rsplit(".", 1)[0] in norm and not o["freeze_norm"]:
                        continue
                    p.requires_grad_(False)
                    p.grad = None
            for b in m.brns():
                b.momentum = o["inc_update_rate"]
                b.r_max, b.d_max, b.inc = o["max_r_max"], o["max_d_max"], 0.0
        lr = o["lr"] if e == 0 else o["inc_lr"]
        sgd = torch.optim.SGD([p for p in m.parameters()], lr=lr, momentum=o["momentum"],
                              weight_decay=o["l2"])
        # 3. CWR*: class counts of the new data plus, after the first, the memory's labels.
        classes = self.saved.shape[0]
        cur_j = torch.bincount(y, minlength=classes)
        if e > 0:
            cur_j += torch.bincount(self.mem_y, minlength=classes)
        cur_class = [c for c in range(classes) if cur_j[c] > 0]
        with torch.no_grad():
            m.output.weight.zero_()
            for c in cur_class:
                if self.past_j[c] > 0:
                    m.output.weight[c] = self.saved[c]
        # Which first-epoch positions enter the memory, drawn now.
        h = min(o["rm_sz"] // (e + 1), n_new)
        keep = torch.randperm(n_new, generator=self.gen)[:h]
        rec["kept_positions"] = keep.clone()
        # Minibatches.
        mb = o["train_mb_size"]
        if e == 0:
            cur, rep = mb, 0
        else:
            div = (n_new + o["rm_sz"]) // mb
            cur = max(n_new // div, 1) if div > 0 else n_new
            rep = max(mb - cur, 0)
        epochs = o["first_epochs"] if e == 0 and o["first_epochs"] > 0 else o["train_epochs"]
        lat_kept = [None] * n_new
        for epoch in range(epochs):
            for it, start in enumerate(range(0, n_new, cur)):
                xb, yb = x[start:start + cur], y[start:start + cur]
                lat = m.lat_features(xb)
                z, yz = lat, yb
                if rep > 0 and self.mem_x is not None:
                    lo = min(it * rep, self.mem_x.shape[0])
                    hi = min((it + 1) * rep, self.mem_x.shape[0])
                    z = torch.cat([lat, self.mem_x[lo:hi]])
                    yz = torch.cat([yb, self.mem_y[lo:hi]])
                logits = m.output(torch.flatten(m.end_features(z), 1))
                loss = F.cross_entropy(logits, yz)
                sgd.zero_grad(set_to_none=True)
                loss.backward()
                sgd.step()
                if epoch == 0:  # each new image's latent, with its own label (below)
                    for r in range(lat.shape[0]):
                        lat_kept[start + r] = lat[r].detach().clone()
        rec["output_trained"] = m.output.weight.detach().clone()
        # After: 1. replay memory, each latent with its own label.
        acts = torch.stack([lat_kept[int(i)] for i in keep])
        labels = y[keep].clone()
        if self.mem_x is None:  # empty memory: rows 0..h-1
            slots = torch.arange(h)
            self.mem_x = torch.zeros((o["rm_sz"],) + tuple(acts.shape[1:]))
            self.mem_y = torch.zeros(o["rm_sz"], dtype=torch.int64)
            assert h == o["rm_sz"], "the reference run fills the memory in experience 0"
        else:
            slots = torch.randperm(o["rm_sz"], generator=self.gen)[:h]
        self.mem_x[slots] = acts
        self.mem_y[slots] = labels
        rec["memory_slots"] = slots.clone()
        # 2. CWR* consolidation (float64 arithmetic, stored as float32).
        with torch.no_grad():
            w = m.output.weight.detach().double()
            avg = w[cur_class].mean()
            saved = self.saved.double()
            for c in cur_class:
                wc = w[c] - avg
                if self.past_j[c] > 0:
                    p = math.sqrt(int(self.past_j[c]) / int(cur_j[c]))
                    saved[c] = (saved[c] * p + wc) / (p + 1)
                    self.past_j[c] += cur_j[c]
                else:
                    saved[c] = wc
                    self.past_j[c] = cur_j[c]
                self.saved[c] = saved[c].float()
            for c in range(classes):
                if self.past_j[c] > 0:
                    m.output.weight[c] = self.saved[c]
        rec.update({"cur_j": cur_j, "cwr_saved": self.saved.clone(),
                    "cwr_past_j": self.past_j.clone(), "memory_labels": self.mem_y.clone(),
                    "new_per_batch": cur, "replay_per_batch": rep})
        return rec

    def evaluate(self, x, y):
        self.model.eval()
        with torch.no_grad():
            logits = self.model(x)
        pred = logits.argmax(1)
        top2 = logits.topk(2, dim=1).values
        margin = float(((top2[:, 0] - top2[:, 1]) / logits.abs().max()).min())
        return logits, pred, float((pred == y).float().mean()), margin


def weight_fingerprint(w, w0):
    """Per output channel sum of (w - w0)^2, the squared size of training's change (float64
    sums, as float32 [C])."""
    flat = (w.detach().double() - w0.double()).reshape(w.shape[0], -1)
    return (flat * flat).sum(1).float()


class ReluMarginMonitor:
    """The smallest |ReLU input| / (largest |input| of its channel in that forward) over every
    training forward whose output carries a gradient. An input that close to zero is a near
    tie: two float32 implementations may put it on different sides, and the ReLU's gradient
    then differs at that position. One such tie (5e-8) in an earlier draft of this case moved
    the other implementation's lower BatchReNorm gradients by 10% and its final weights by
    1e-3; with every margin above 2.7e-7 the implementations agree to about 2e-6."""

    def __init__(self, model):
        self.smallest = math.inf
        for mod in model.modules():
            if isinstance(mod, BatchReNorm2d):  # its output is the ReLU's input (ConvBlock)
                mod.register_forward_hook(self.hook)

    def hook(self, module, inputs, out):
        if not (torch.is_grad_enabled() and out.requires_grad):
            return
        v = out.detach().abs()
        rel = v / v.amax(dim=(0, 2, 3), keepdim=True).clamp(min=1e-30)
        self.smallest = min(self.smallest, float(rel.min()))


def ar1_reference_case(out_dir):
    """ar1_reference.safetensors: AR1 (SPEC.md 3) on three small Fashion-MNIST experiences
    with a fixed data order, alpha 0.25 MobileNetV1 at 32x32, latent_layer_num 19, 5 classes.
    Options are in the metadata; data order is the dataset's (shuffle off).

    train_images u8 [40,32,32,1] (28x28 zero-padded, HWC), train_labels i64 [40]
    exp_bounds i64 [4]            experience e holds train images [bounds[e], bounds[e+1])
    test_images u8 [15,32,32,1], test_labels i64 [15]
        images enter as x / 255 in float32, grey repeated to 3 channels
    init.<name> f16               every parameter and running statistic before training
                                  (f16-exact values: load as f32)
    exp{e}.kept_positions i64     first-epoch positions whose latents enter the memory, in
                                  draw order (torch.randperm)
    exp{e}.memory_slots i64       the memory row each of them goes to
    exp{e}.output_trained         output.weight after training, before consolidation
    exp{e}.cur_j, exp{e}.cwr_past_j i64 [5], exp{e}.cwr_saved [5,256]   CWR* after e
    exp{e}.memory_labels i64 [12] the memory's labels in row order after e
    exp{e}.logits [15,5], exp{e}.predictions i64 [15]   test batch, eval mode, after e
    exp{e}.state.<name>           state after e: every tensor after the last experience;
                                  after the others every tensor but the conv weights and
                                  lat_features' running statistics (lat_features runs in
                                  eval mode: they never change)
    exp{e}.fingerprint.<name>     for e < last, per output channel sum (w - w_init)^2 of
                                  each conv weight (float64 sums, stored as f32 [C])
    final.memory_latents [12,128,2,2]  the memory's activations after the last experience
    metadata: options, exp{e}_accuracy, exp{e}_new_per_batch / _replay_per_batch,
              exp{e}_min_margin (smallest top-1 minus top-2 logit / max|logit|),
              min_relu_margin (ReluMarginMonitor: the run has no near tie)
    """
    import numpy as np
    if not os.path.isdir(FASHION_DIR):
        print(f"skipping ar1_reference: no Fashion-MNIST in {FASHION_DIR} "
              "(apt-get install dataset-fashion-mnist)")
        return
    torch.manual_seed(800)
    opt = {"alpha": 0.25, "num_classes": 5, "latent_layer_num": 19, "input_size": 32,
           "train_mb_size": 8, "rm_sz": 12, "train_epochs": 2, "first_epochs": 2, "lr": 0.01,
           "inc_lr": 0.005, "momentum": 0.9, "l2": 5e-4, "init_update_rate": 0.1,
           "inc_update_rate": 0.01, "inc_step": 0.005, "max_r_max": 1.25, "max_d_max": 0.5,
           "freeze_below_layer": "lat_features.19.bn", "freeze_norm": False,
           "ewc_lambda": 0.0, "shuffle": False}
    # Fashion-MNIST T-shirt, Trouser, Sneaker, Bag, Ankle boot as classes 0..4. Experience 0:
    # classes 0, 1, 2; 1: classes 2 (again), 3; 2: classes 4, 0 (again). Classes interleave.
    fm = [0, 1, 7, 8, 9]
    train = fashion_pick("train", fm, [11, 5, 12, 6, 6])
    taken = {c: 0 for c in fm}
    plan = [[0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2],  # 16 images
            [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 3, 2],              # 12
            [4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 0, 4]]              # 12
    pixels, labels, bounds = [], [], [0]
    for exp in plan:
        for c in exp:
            pixels.append(train[fm[c]][taken[fm[c]]])
            taken[fm[c]] += 1
            labels.append(c)
        bounds.append(len(labels))
    assert all(taken[c] == len(train[c]) for c in fm), taken
    train_px = np.stack(pixels)
    train_y = torch.tensor(labels, dtype=torch.int64)
    test = fashion_pick("t10k", fm, [3] * 5)
    test_px = np.concatenate([test[c] for c in fm])
    test_y = torch.arange(5).repeat_interleave(3)
    x_train, x_test = unit_rgb(train_px), unit_rgb(test_px)

    # "Pretrained" weights (AR1 starts from pretrained ones): Kaiming-normal convs trained as
    # plain batch-norm nets (r_max 1, d_max 0) on the other five Fashion-MNIST classes; then
    # every value rounded to f16 so that the fixture can hold it as f16 exactly.
    hyper = {k: opt[k] for k in ("alpha", "num_classes", "latent_layer_num")}
    model = MobileNetV1(**hyper)
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
    other = [2, 3, 4, 5, 6]
    pre = fashion_pick("train", other, [PRETRAIN_PER_CLASS] * 5)
    pre_x = unit_rgb(np.concatenate([pre[c] for c in other]))
    pre_y = torch.arange(5).repeat_interleave(PRETRAIN_PER_CLASS)
    for b in model.brns():
        b.r_max, b.d_max, b.momentum = 1.0, 0.0, 0.1
    model.train()
    pre_opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    for _ in range(PRETRAIN_EPOCHS):
        order = torch.randperm(pre_x.shape[0])
        for k in range(0, pre_x.shape[0], 32):
            rows = order[k:k + 32]
            pre_opt.zero_grad()
            F.cross_entropy(model(pre_x[rows]), pre_y[rows]).backward()
            pre_opt.step()
    with torch.no_grad():
        for b in model.brns():
            b.r_max, b.d_max = 1.0, 0.0  # a fresh layer's clip limits
        for t in model.state_dict().values():
            t.copy_(t.half().float())
    initial = {k: v.half() for k, v in model.state_dict().items()}
    conv_names = {n for n in initial if n.endswith("conv.weight")}

    tensors = {"train_images": torch.from_numpy(train_px).unsqueeze(-1).contiguous(),
               "train_labels": train_y, "exp_bounds": torch.tensor(bounds),
               "test_images": torch.from_numpy(test_px).unsqueeze(-1).contiguous(),
               "test_labels": test_y}
    tensors.update({"init." + k: v for k, v in initial.items()})
    meta = {k: repr(v) if isinstance(v, float) else str(v) for k, v in opt.items()}

    gen = torch.Generator().manual_seed(801)
    ar1 = AR1Reference(model, opt, gen)
    margins = ReluMarginMonitor(model)
    experiences = len(plan)
    for e in range(experiences):
        lo, hi = bounds[e], bounds[e + 1]
        rec = ar1.train_experience(e, x_train[lo:hi], train_y[lo:hi])
        logits, pred, acc, margin = ar1.evaluate(x_test, test_y)
        assert margin > 1e-3, f"experience {e}: a test prediction is a near tie ({margin})"
        p = f"exp{e}."
        for k in ("kept_positions", "memory_slots", "output_trained", "cur_j", "cwr_saved",
                  "cwr_past_j", "memory_labels"):
            tensors[p + k] = rec[k]
        tensors[p + "logits"], tensors[p + "predictions"] = logits, pred
        for k, v in model.state_dict().items():
            if e + 1 == experiences:
                tensors[p + "state." + k] = v.clone()
            elif k in conv_names:
                tensors[p + "fingerprint." + k] = weight_fingerprint(v, initial[k].float())
            elif not (k.startswith("lat_features.") and ".running_" in k):
                tensors[p + "state." + k] = v.clone()
        meta.update({f"exp{e}_accuracy": repr(acc), f"exp{e}_min_margin": f"{margin:.4f}",
                     f"exp{e}_new_per_batch": rec["new_per_batch"],
                     f"exp{e}_replay_per_batch": rec["replay_per_batch"]})
    tensors["final.memory_latents"] = ar1.mem_x.clone()
    assert margins.smallest > RELU_MARGIN, \
        f"a ReLU input came within {margins.smallest:.2e} of zero (near tie): pick another " \
        "DITHER_SEED"
    meta["min_relu_margin"] = f"{margins.smallest:.3e}"
    meta.update({"experiences": experiences, "model": "mobilenet_v1_brn",
                 "pipeline": "scale_to_unit -> grey_to_rgb", "loss": "cross_entropy mean"})
    save(out_dir, "ar1_reference", tensors, meta)


CASES = [conv_cases, linear_cases, avgpool_case, relu_case, cross_entropy_case,
         batchrenorm_case, mobilenet_case, ar1_reference_case]


def list_fixtures(out_dir):
    """Prints each fixture's tensors (name dtype shape), compressing per-layer name runs."""
    for f in sorted(os.listdir(out_dir)):
        if not f.endswith(".safetensors"):
            continue
        tensors, meta = read_safetensors(os.path.join(out_dir, f))
        size = os.path.getsize(os.path.join(out_dir, f))
        print(f"{f} ({size} bytes) metadata: {meta}")
        for name, t in tensors.items():
            print(f"  {name} {str(t.dtype).replace('torch.', '')} {list(t.shape)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--list", action="store_true", help="print the fixtures' contents")
    args = ap.parse_args()
    if args.list:
        list_fixtures(args.out)
        return
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)
    for case in CASES:
        case(args.out)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out)
                if f.endswith(".safetensors"))
    print(f"wrote fixtures to {args.out}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
