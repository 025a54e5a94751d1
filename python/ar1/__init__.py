"""ar1: AR1 with latent replay (Avalanche's ``avalanche.training.AR1``) on ar1's own engine.

    import ar1
    bench = ar1.benchmark(dataset="fashion-mnist", scenario="nc", n_experiences=5)
    strategy = ar1.AR1(num_classes=bench.n_classes, lr=0.01, train_epochs=4, rm_sz=1500)
    for exp in bench.train_stream:
        strategy.train(exp)
        metrics = strategy.eval(bench.test_stream)
        print(metrics["Top1_Acc_Stream/eval_phase/test_stream/Task000"])

Images are numpy arrays: uint8 (N, H, W) or (N, H, W, C) in 0..255, or float32 (N, C, H, W)
in 0..1. C-contiguous uint8 and float32 arrays are read in place; other layouts and dtypes
are converted once. Labels are integers (N,): int32 is read in place. The GIL is released
while the library trains, evaluates, predicts, saves or loads.
"""
import json as _json

import numpy as _np

from . import _ar1

__version__ = _ar1.version()
__all__ = ["AR1", "Benchmark", "Experience", "benchmark", "__version__"]

_STREAM = "test_stream"


def _name(base, experience=None):
    """An Avalanche metric name, e.g. Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp003."""
    name = f"{base}/eval_phase/{_STREAM}/Task000"
    return name if experience is None else f"{name}/Exp{experience:03d}"


class Experience:
    """One experience of a stream: images ``x``, labels ``y`` (int32), its position
    ``current_experience`` and the sorted ``classes_in_this_experience``."""

    def __init__(self, x, y, current_experience=0):
        self.x = x
        self.y = _np.asarray(y)
        self.current_experience = current_experience
        self.classes_in_this_experience = sorted(int(c) for c in _np.unique(self.y))

    def __len__(self):
        return len(self.y)

    def __repr__(self):
        return (f"Experience({self.current_experience}: {len(self)} images, "
                f"classes {self.classes_in_this_experience})")


class Benchmark:
    """A dataset and scenario exactly as ``ar1 train`` builds them from the same options."""

    def __init__(self, **options):
        self._b = _ar1.Benchmark(_json.dumps(options))
        self.n_classes = self._b.num_classes
        self.train_stream = self._stream("train")
        self.test_stream = self._stream("test")

    def _stream(self, which):
        out = []
        for k in range(self._b.num_experiences(which)):
            x, y = self._b.experience(which, k)
            if x.shape[-1] == 1:
                x = x[..., 0]  # grey: (N, H, W)
            out.append(Experience(x, y, k))
        return out


def benchmark(**options):
    """``ar1 train``'s data options, underscored: dataset ("fashion-mnist", "mnist",
    "cifar10", "cifar100", "core50", "folder"), data_root, scenario ("nic", "nc", "ni", or a
    CORe50 list), n_experiences, run, train_per_class, test_per_class, limit."""
    return Benchmark(**options)


class AR1:
    """The AR1 strategy. Keyword arguments are Avalanche's AR1 arguments (lr, inc_lr,
    momentum, l2, train_epochs, init_update_rate, inc_update_rate, max_r_max, max_d_max,
    inc_step, rm_sz, freeze_below_layer, latent_layer_num, ewc_lambda, train_mb_size,
    eval_mb_size, eval_every) and any other ``ar1 train`` option with underscores (seed,
    device, image_size, alpha, first_epochs, threads, ...); the defaults are ``ar1 train``'s.
    An unknown name raises ValueError naming the nearest known one."""

    def __init__(self, num_classes, **options):
        self._s = _ar1.Strategy(_json.dumps({"num_classes": int(num_classes), **options}))

    @classmethod
    def _wrap(cls, s):
        obj = cls.__new__(cls)
        obj._s = s
        return obj

    @classmethod
    def load(cls, path):
        """A strategy saved with save(): it continues bit-identically."""
        return cls._wrap(_ar1.Strategy.load(str(path)))

    def save(self, path):
        """Writes everything needed to continue to one file (temporary file + rename)."""
        self._s.save(str(path))

    @property
    def num_classes(self):
        return self._s.num_classes

    @property
    def experiences_trained(self):
        return self._s.experiences_trained

    def train(self, x, y=None):
        """Trains one experience: ``train(experience)`` or ``train(images, labels)``."""
        if y is None:
            x, y = x.x, x.y
        self._s.train(x, y)

    def eval(self, x, y=None):
        """Evaluates and returns Avalanche's metrics by name.

        ``eval(images, labels)`` or ``eval(experience)``: the stream figures of that one set.
        ``eval(stream)`` (a list of experiences): Top1_Acc_Exp and Loss_Exp of each (named by
        its current_experience) and the stream's Top1_Acc_Stream and Loss_Stream over all of
        its images, computed as ``ar1 train`` computes them."""
        if y is not None:
            experiences = [Experience(x, y, 0)]
        elif isinstance(x, Experience):
            experiences = [x]
        else:
            experiences = list(x)
        metrics = {}
        correct = seen = 0
        loss_sum = 0.0
        for exp in experiences:
            accuracy, loss = self._s.evaluate(exp.x, exp.y)
            n = len(exp)
            metrics[_name("Top1_Acc_Exp", exp.current_experience)] = accuracy
            metrics[_name("Loss_Exp", exp.current_experience)] = loss
            correct += round(accuracy * n)
            seen += n
            loss_sum += loss * n
        metrics[_name("Top1_Acc_Stream")] = correct / seen
        metrics[_name("Loss_Stream")] = loss_sum / seen
        return metrics

    def predict(self, x):
        """The most probable class of each image (int32, (N,))."""
        classes, _ = self._s.predict_topk(x, 1)
        return classes[:, 0]

    def predict_proba(self, x):
        """Softmax probabilities (float32, (N, num_classes))."""
        logits = self._s.predict_logits(x).astype(_np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = _np.exp(logits)
        return (p / p.sum(axis=1, keepdims=True)).astype(_np.float32)

    def predict_logits(self, x):
        """The logits (float32, (N, num_classes))."""
        return self._s.predict_logits(x)
