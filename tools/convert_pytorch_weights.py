#!/usr/bin/python3
"""Convert PyTorch MobileNetV1 weights to ar1's names in a safetensors file.

Run (with a Python that has torch, e.g. Debian's python3-torch):

    /usr/bin/python3 tools/convert_pytorch_weights.py mobilenet_w1.pth out.safetensors \
        [--latent-layer-num 19] [--num-classes N]
    /usr/bin/python3 tools/convert_pytorch_weights.py --self-test

Inputs understood (a state dict, or a checkpoint dict holding one under "state_dict",
"model_state_dict", "model" or "net"; a leading "module." is stripped):

* pytorchcv's mobilenet_w1: features.init_block.conv.weight,
  features.stage{S}.unit{U}.{dw_conv,pw_conv}.conv.weight,
  ....bn.{weight,bias,running_mean,running_var}, output.weight / output.bias.
* An AR1 checkpoint (Avalanche or the authors' code): lat_features.{i}.conv.weight,
  end_features.{j}.conv.weight, ....bn.{gamma,beta} (shape [C] or [1, C, 1, 1]), running
  statistics as running_mean/running_std, running_avg_mean/running_avg_std or a BatchNorm's
  running_var, output.weight.

Output names (SPEC.md section 1), with the split re-done at --latent-layer-num:
lat_features.{i}.conv.weight, lat_features.{i}.bn.{gamma,beta,running_mean,running_std} for
i <= latent_layer_num, end_features.{i - latent_layer_num - 1}.… for the rest, output.weight.
BatchNorm becomes BatchReNorm: gamma = weight, beta = bias, running_mean = running_mean,
running_std = sqrt(running_var). The output layer has no bias in ar1: a bias is dropped with
a warning. --num-classes N keeps the first N output rows; --num-classes 0 drops the output
layer (ar1 then starts its own, as AR1's CWR* zeroes it anyway).

This file also holds the small safetensors writer/reader that tools/make_fixtures.py uses
(the `safetensors` package is not needed).
"""

import argparse
import json
import math
import os
import re
import sys
import tempfile

import torch

# ---------------------------------------------------------------- safetensors I/O

_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.uint8: "U8",
}
_DTYPES_BACK = {v: k for k, v in _DTYPES.items()}


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: write its bits
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (in insertion order) and {str: str} metadata atomically."""
    assert sys.byteorder == "little", "safetensors data is little-endian"
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if t.dtype not in _DTYPES:
            raise ValueError(f"tensor {name!r} has dtype {t.dtype}; supported: {list(_DTYPES)}")
        blob = _tensor_bytes(t)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) from a file written by write_safetensors."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, e = info["data_offsets"]
        dtype = _DTYPES_BACK[info["dtype"]]
        buf = bytearray(data[b:e])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16) if buf else \
                torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, metadata


# ---------------------------------------------------------------- conversion

NUM_LAYERS = 27  # conv blocks 0..26 of SPEC.md section 1


def _unwrap(obj):
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model", "net"):
            if key in obj and isinstance(obj[key], dict):
                return _unwrap(obj[key])
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        return obj.state_dict()
    out = {}
    for k, v in obj.items():
        if not torch.is_tensor(v):
            continue
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def _bn_to_brn(sd, prefix, where):
    """BatchNorm or BatchReNorm entries under `prefix` -> (our four [C] tensors, whether the
    running statistics were missing and filled with mean 0 / std 1)."""
    def pick(*names):
        for n in names:
            if prefix + n in sd:
                return sd[prefix + n].detach().float().reshape(-1)
        return None

    gamma = pick("gamma", "weight")
    beta = pick("beta", "bias")
    if gamma is None or beta is None:
        raise KeyError(f"{where}: no {prefix}weight/gamma or {prefix}bias/beta in the input")
    mean = pick("running_mean", "running_avg_mean")
    std = pick("running_std", "running_avg_std")
    if std is None:
        var = pick("running_var")
        if var is not None:
            if (var < 0).any():
                raise ValueError(f"{where}: {prefix}running_var has negative entries")
            std = var.sqrt()  # running_std = sqrt(running_var)
    missing = mean is None or std is None
    mean = torch.zeros_like(gamma) if mean is None else mean
    std = torch.ones_like(gamma) if std is None else std
    return {"gamma": gamma, "beta": beta, "running_mean": mean, "running_std": std}, missing


def _layers_pytorchcv(sd):
    """Global layer list [(conv_prefix, bn_prefix)] of a pytorchcv mobilenet state dict."""
    layers = [("features.init_block.conv.", "features.init_block.bn.")]
    units = set()
    for k in sd:
        m = re.match(r"features\.stage(\d+)\.unit(\d+)\.", k)
        if m:
            units.add((int(m.group(1)), int(m.group(2))))
    for s, u in sorted(units):
        for part in ("dw_conv", "pw_conv"):
            base = f"features.stage{s}.unit{u}.{part}."
            layers.append((base + "conv.", base + "bn."))
    return layers


def _layers_ar1(sd):
    """Global layer list of an AR1 checkpoint (lat_features then end_features)."""
    def indices(part):
        return sorted({int(m.group(1)) for k in sd
                       for m in [re.match(part + r"\.(\d+)\.conv\.weight$", k)] if m})

    layers = []
    for part in ("lat_features", "end_features"):
        idx = indices(part)
        if idx != list(range(len(idx))):
            raise ValueError(f"{part} conv layers are not numbered 0..n-1: {idx}")
        layers += [(f"{part}.{i}.conv.", f"{part}.{i}.bn.") for i in idx]
    return layers


def convert(sd, latent_layer_num=19, num_classes=None):
    """State dict -> ({our name: tensor}, metadata)."""
    sd = _unwrap(sd)
    if "features.init_block.conv.weight" in sd:
        fmt, layers = "pytorchcv", _layers_pytorchcv(sd)
    elif "lat_features.0.conv.weight" in sd:
        fmt, layers = "ar1", _layers_ar1(sd)
    else:
        raise KeyError("input is neither a pytorchcv mobilenet state dict (features.init_block."
                       "conv.weight) nor an AR1 checkpoint (lat_features.0.conv.weight)")
    if len(layers) != NUM_LAYERS:
        raise ValueError(f"found {len(layers)} conv layers, MobileNetV1 has {NUM_LAYERS}")
    if not 0 <= latent_layer_num < NUM_LAYERS:
        raise ValueError(f"--latent-layer-num must be in 0..{NUM_LAYERS - 1}")

    out = {}
    no_stats = []
    for i, (conv, bn) in enumerate(layers):
        name = (f"lat_features.{i}" if i <= latent_layer_num
                else f"end_features.{i - latent_layer_num - 1}")
        out[f"{name}.conv.weight"] = sd[conv + "weight"].detach().float().contiguous()
        if conv + "bias" in sd:
            raise ValueError(f"{conv}bias: ar1's conv layers have no bias")
        brn, missing = _bn_to_brn(sd, bn, f"layer {i}")
        if missing:
            no_stats.append(i)
        for k, v in brn.items():
            out[f"{name}.bn.{k}"] = v.contiguous()
    if no_stats:
        print(f"warning: no running statistics for layers {no_stats}; using mean 0, std 1 "
              "(Avalanche keeps them outside the state dict: re-estimate them by running the "
              "model in train mode, or convert the pytorchcv weights instead)", file=sys.stderr)

    if "output.weight" in sd and num_classes != 0:
        w = sd["output.weight"].detach().float()
        if num_classes is not None:
            if num_classes > w.shape[0]:
                raise ValueError(f"--num-classes {num_classes} exceeds the {w.shape[0]} output "
                                 "rows; use --num-classes 0 to drop the output layer")
            w = w[:num_classes]
        out["output.weight"] = w.contiguous()
        if "output.bias" in sd:
            print("warning: output.bias dropped (ar1's output layer has no bias)",
                  file=sys.stderr)
    meta = {"converted_from": fmt, "latent_layer_num": str(latent_layer_num),
            "tool": "tools/convert_pytorch_weights.py"}
    return out, meta


# ---------------------------------------------------------------- self-test

def _fake_pytorchcv(width=8, classes=20, seed=0):
    """A random state dict shaped like pytorchcv's mobilenet_w1 at 1/`width` of the channels."""
    g = torch.Generator().manual_seed(seed)
    base = [32, 64, 128, 256, 512, 1024]
    ch = [c // width for c in base]
    stages = [[ch[1]], [ch[2], ch[2]], [ch[3], ch[3]], [ch[4]] * 6, [ch[5], ch[5]]]
    sd = {}

    def block(prefix, cin, cout, k, groups):
        sd[prefix + "conv.weight"] = torch.randn(cout, cin // groups, k, k, generator=g)
        sd[prefix + "bn.weight"] = torch.rand(cout, generator=g) + 0.5
        sd[prefix + "bn.bias"] = torch.randn(cout, generator=g)
        sd[prefix + "bn.running_mean"] = torch.randn(cout, generator=g)
        sd[prefix + "bn.running_var"] = torch.rand(cout, generator=g) + 0.1
        sd[prefix + "bn.num_batches_tracked"] = torch.tensor(7)

    block("features.init_block.", 3, ch[0], 3, 1)
    cin = ch[0]
    for s, outs in enumerate(stages, start=1):
        for u, cout in enumerate(outs, start=1):
            p = f"features.stage{s}.unit{u}."
            block(p + "dw_conv.", cin, cin, 3, cin)
            block(p + "pw_conv.", cin, cout, 1, 1)
            cin = cout
    sd["output.weight"] = torch.randn(classes, cin, generator=g)
    sd["output.bias"] = torch.randn(classes, generator=g)
    return sd


def self_test():
    sd = _fake_pytorchcv()
    # Global layer i of SPEC.md section 1 and the pytorchcv prefix it must come from.
    expected_src = ["features.init_block."]
    for s, n in enumerate([1, 2, 2, 6, 2], start=1):
        for u in range(1, n + 1):
            expected_src += [f"features.stage{s}.unit{u}.dw_conv.",
                             f"features.stage{s}.unit{u}.pw_conv."]
    assert len(expected_src) == NUM_LAYERS

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "w.safetensors")
        out, meta = convert({"state_dict": {"module." + k: v for k, v in sd.items()}},
                            latent_layer_num=19, num_classes=10)
        write_safetensors(path, out, meta)
        back, meta_back = read_safetensors(path)
        assert meta_back == meta, meta_back
        assert list(back) == list(out), "file order differs from conversion order"

        names = set()
        for i, src in enumerate(expected_src):
            ours = f"lat_features.{i}" if i <= 19 else f"end_features.{i - 20}"
            for k in ("conv.weight", "bn.gamma", "bn.beta", "bn.running_mean",
                      "bn.running_std"):
                names.add(f"{ours}.{k}")
            assert torch.equal(back[f"{ours}.conv.weight"], sd[src + "conv.weight"]), src
            assert torch.equal(back[f"{ours}.bn.gamma"], sd[src + "bn.weight"])
            assert torch.equal(back[f"{ours}.bn.beta"], sd[src + "bn.bias"])
            assert torch.equal(back[f"{ours}.bn.running_mean"], sd[src + "bn.running_mean"])
            assert torch.allclose(back[f"{ours}.bn.running_std"] ** 2,
                                  sd[src + "bn.running_var"], rtol=1e-6)
            assert torch.equal(back[f"{ours}.bn.running_std"],
                               torch.sqrt(sd[src + "bn.running_var"]))
        names.add("output.weight")
        assert set(back) == names, sorted(set(back) ^ names)
        assert "end_features.6.conv.weight" in back and "lat_features.20.conv.weight" not in back
        assert back["lat_features.0.conv.weight"].shape == (4, 3, 3, 3)
        assert back["lat_features.19.conv.weight"].shape == (64, 1, 3, 3)
        assert back["end_features.0.conv.weight"].shape == (64, 64, 1, 1)
        assert back["end_features.6.conv.weight"].shape == (128, 128, 1, 1)
        assert torch.equal(back["output.weight"], sd["output.weight"][:10])

        # Dropping the output layer, and another split.
        out2, _ = convert(sd, latent_layer_num=21, num_classes=0)
        assert "output.weight" not in out2
        assert "lat_features.21.bn.gamma" in out2 and "end_features.4.conv.weight" in out2
        assert "end_features.5.conv.weight" not in out2

        # An AR1 checkpoint (Avalanche layout: [1, C, 1, 1] gamma/beta, no running stats)
        # re-split from 19 to 21 keeps every tensor, with mean 0 / std 1 filled in.
        ar1 = {}
        for k, v in out.items():
            if k.endswith("running_mean") or k.endswith("running_std"):
                continue
            ar1[k] = v.reshape(1, -1, 1, 1) if ".bn." in k else v
        out3, meta3 = convert(ar1, latent_layer_num=21)
        assert meta3["converted_from"] == "ar1"
        assert torch.equal(out3["lat_features.20.conv.weight"], out["end_features.0.conv.weight"])
        assert torch.equal(out3["end_features.0.bn.gamma"], out["end_features.2.bn.gamma"])
        assert out3["end_features.0.bn.gamma"].shape == (64,)
        assert torch.equal(out3["lat_features.3.bn.running_std"],
                           torch.ones_like(out["lat_features.3.bn.running_std"]))
        # With the statistics present (our own names) the round trip is exact.
        out4, _ = convert(out, latent_layer_num=19)
        assert list(out4) == list(out) and all(torch.equal(out4[k], out[k]) for k in out)

        # Bad inputs fail with a message.
        for bad, kw in (({"foo": torch.zeros(1)}, {}), (sd, {"num_classes": 99}),
                        (sd, {"latent_layer_num": 27})):
            try:
                convert(bad, **kw)
            except (KeyError, ValueError):
                pass
            else:
                raise AssertionError(f"convert accepted {kw}")
    print("self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?", help="PyTorch state dict or checkpoint (.pth/.pt)")
    ap.add_argument("output", nargs="?", help="safetensors file to write")
    ap.add_argument("--latent-layer-num", type=int, default=19)
    ap.add_argument("--num-classes", type=int, default=None,
                    help="keep the first N output rows; 0 drops the output layer")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if not args.input or not args.output:
        ap.error("give INPUT and OUTPUT, or --self-test")
    sd = torch.load(args.input, map_location="cpu")
    out, meta = convert(sd, args.latent_layer_num, args.num_classes)
    meta["source"] = os.path.basename(args.input)
    write_safetensors(args.output, out, meta)
    print(f"wrote {len(out)} tensors to {args.output}")


if __name__ == "__main__":
    main()
