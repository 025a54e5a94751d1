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
    initial = copy.deepcopy(model.state_dict())
    params = [n for n, _ in model.named_parameters()]
    buffers = [n for n, _ in model.named_buffers()]

    def fresh():
        m = MobileNetV1(brn=brn, **hyper)
        m.load_state_dict(initial)
        return m

    x = torch.randn(2, 3, 64, 64)
    y = torch.tensor([3, 7], dtype=torch.int64)
    tensors = {"weights." + k: v for k, v in initial.items()}
    tensors.update({"x": x, "y": y})

    # Train step.
    model.train()
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
    torch.manual_seed(701)
    latent_input = torch.relu(torch.randn(3, 128, 4, 4))
    y_lat = torch.cat([y, torch.tensor([0, 9, 3], dtype=torch.int64)])
    m_lat = fresh().train()
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

    meta = {"model": "mobilenet_v1_brn", **hyper, "input": "2x3x64x64",
            **{"brn_" + k: repr(v) for k, v in brn.items()},
            **{"sgd_" + k: repr(v) for k, v in sgd.items()},
            "loss": "cross_entropy mean", "r_clipped_channels": r_clip,
            "d_clipped_channels": d_clip, "brn_channels": channels,
            "eval_logits": "eval forward of x with weights.*",
            "latent": "logits = output(flatten(end_features(cat(lat_features(x), "
                      "latent.latent_input))))"}
    save(out_dir, "mobilenet_a025", tensors, meta)


CASES = [conv_cases, linear_cases, avgpool_case, relu_case, cross_entropy_case,
         batchrenorm_case, mobilenet_case]


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
