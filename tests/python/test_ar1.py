"""The ar1 wheel from Python: the tests run against the installed package, never the source
tree. AR1_BINARY names the `ar1` CLI (for the parity case), AR1_FASHION_MNIST_DIR the data."""
import json
import os
import struct
import subprocess
import tempfile
import threading
import unittest

import numpy as np

import ar1
from ar1 import _ar1

DATA = os.environ.get("AR1_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")

# A few seconds of training: two class-incremental experiences of 16 x 16 Fashion-MNIST.
SMALL = dict(image_size=16, first_epochs=1, train_epochs=1, rm_sz=20, train_mb_size=16,
             workers=0, threads=1, seed=0)
SCENARIO = dict(dataset="fashion-mnist", data_root=DATA, scenario="nc", n_experiences=2,
                train_per_class=20, test_per_class=10)


def need_data(case):
    if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
        case.skipTest(f"Fashion-MNIST not found in {DATA}: apt-get install dataset-fashion-mnist")


def small_benchmark(case):
    need_data(case)
    return ar1.benchmark(**SCENARIO)


def checkpoint_config(path):
    """The config in a checkpoint's safetensors metadata."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return json.loads(header["__metadata__"]["config"])


def random_images(n, seed=0, size=16):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size), dtype=np.uint8), rng.integers(0, 4, n)


class KwargsTest(unittest.TestCase):
    def test_avalanche_names_become_the_config(self):
        s = ar1.AR1(num_classes=4, lr=0.02, inc_lr=1e-4, train_epochs=3, rm_sz=30,
                    latent_layer_num=17, train_mb_size=8, eval_mb_size=32, image_size=16)
        with tempfile.TemporaryDirectory() as d:
            s.save(os.path.join(d, "s.safetensors"))
            c = checkpoint_config(os.path.join(d, "s.safetensors"))
        self.assertEqual(c["lr"], 0.02)
        self.assertEqual(c["inc_lr"], 1e-4)
        self.assertEqual(c["train_epochs"], 3)
        self.assertEqual(c["rm_sz"], 30)
        self.assertEqual(c["latent_layer_num"], 17)
        self.assertEqual(c["eval_mb_size"], 32)
        self.assertEqual(s.num_classes, 4)
        self.assertEqual(s.experiences_trained, 0)

    def test_an_unknown_name_names_the_nearest(self):
        with self.assertRaisesRegex(ValueError, "lrr.*lr"):
            ar1.AR1(num_classes=4, lrr=0.1)
        # Another library's name for an option: the nearest is ar1's name for it.
        with self.assertRaisesRegex(ValueError, "learning_rate.*did you mean lr"):
            ar1.AR1(num_classes=10, learning_rate=0.1)
        with self.assertRaisesRegex(ValueError, "num_classes"):
            ar1.AR1(num_classes=1)
        # The CPU kernel set: portable is in every build; the wheel has no oneDNN.
        s = ar1.AR1(num_classes=4, cpu_kernels="portable", image_size=16)
        with tempfile.TemporaryDirectory() as d:
            s.save(os.path.join(d, "s.safetensors"))
            self.assertEqual(checkpoint_config(os.path.join(d, "s.safetensors"))["cpu_kernels"],
                             "portable")
        with self.assertRaisesRegex(ValueError, 'cpu_kernels" must be one of portable, onednn'):
            ar1.AR1(num_classes=4, cpu_kernels="fast")
        with self.assertRaisesRegex(ValueError, "use --cpu-kernels portable"):
            ar1.AR1(num_classes=4, cpu_kernels="onednn")


class ArraysTest(unittest.TestCase):
    def test_contiguous_uint8_and_float32_are_read_in_place(self):
        x = np.zeros((3, 8, 8, 3), np.uint8)
        self.assertEqual(_ar1._batch_address(x), x.ctypes.data)
        f = np.zeros((3, 3, 8, 8), np.float32)
        self.assertEqual(_ar1._batch_address(f), f.ctypes.data)
        grey = np.zeros((3, 8, 8), np.uint8)
        self.assertEqual(_ar1._batch_address(grey), grey.ctypes.data)
        # A strided view and float64 are converted: another buffer.
        self.assertNotEqual(_ar1._batch_address(x[:, ::2]), x.ctypes.data)
        self.assertNotEqual(_ar1._batch_address(f.astype(np.float64)), f.ctypes.data)

    def test_uint8_and_float32_give_the_same_logits(self):
        s = ar1.AR1(num_classes=4, image_size=16, threads=1)
        x, _ = random_images(6)
        chw = (x.astype(np.float32) / np.float32(255))[:, None, :, :]
        np.testing.assert_array_equal(s.predict_logits(x), s.predict_logits(chw))
        # int64 labels (numpy's default) and a Fortran-ordered image array are converted.
        y = np.arange(6) % 4
        s.train(np.asfortranarray(x), y.astype(np.int64))
        self.assertEqual(s.experiences_trained, 1)


class EvalPredictTest(unittest.TestCase):
    def setUp(self):
        self.b = small_benchmark(self)
        self.s = ar1.AR1(num_classes=self.b.n_classes, **SMALL)
        self.s.train(self.b.train_stream[0])

    def test_eval_returns_avalanche_metric_names(self):
        e = self.b.test_stream[0]
        one = self.s.eval(e.x, e.y)
        self.assertEqual(set(one), {
            "Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp000",
            "Loss_Exp/eval_phase/test_stream/Task000/Exp000",
            "Top1_Acc_Stream/eval_phase/test_stream/Task000",
            "Loss_Stream/eval_phase/test_stream/Task000"})
        stream = self.s.eval(self.b.test_stream)
        self.assertIn("Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp001", stream)
        accs = [stream[f"Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp00{k}"] for k in (0, 1)]
        sizes = [len(e) for e in self.b.test_stream]
        self.assertAlmostEqual(stream["Top1_Acc_Stream/eval_phase/test_stream/Task000"],
                               np.dot(accs, sizes) / sum(sizes), places=12)
        # The accuracy is the predictions' agreement with the labels.
        self.assertAlmostEqual(one["Top1_Acc_Stream/eval_phase/test_stream/Task000"],
                               float(np.mean(self.s.predict(e.x) == e.y)), places=12)

    def test_predict_is_the_argmax_of_the_logits(self):
        x = self.b.test_stream[1].x
        logits = self.s.predict_logits(x)
        self.assertEqual(logits.shape, (len(x), self.b.n_classes))
        self.assertEqual(self.s.predict(x).dtype, np.int32)
        np.testing.assert_array_equal(self.s.predict(x), np.argmax(logits, axis=1))
        p = self.s.predict_proba(x)
        np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)

    def test_save_and_load_continue_bit_identically(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "strategy.safetensors")
            self.s.save(path)
            loaded = ar1.AR1.load(path)
        self.assertEqual(loaded.experiences_trained, 1)
        x = self.b.test_stream[0].x
        np.testing.assert_array_equal(loaded.predict_logits(x), self.s.predict_logits(x))
        self.s.train(self.b.train_stream[1])
        loaded.train(self.b.train_stream[1])
        np.testing.assert_array_equal(loaded.predict_logits(x), self.s.predict_logits(x))


class GilTest(unittest.TestCase):
    def test_other_threads_run_while_training(self):
        x, y = random_images(192, seed=1, size=32)
        s = ar1.AR1(num_classes=4, image_size=32, first_epochs=3, train_mb_size=16, threads=1)
        done = threading.Event()
        trainer = threading.Thread(target=lambda: (s.train(x, y), done.set()))
        ticks = 0
        trainer.start()
        while not done.is_set() and trainer.is_alive():
            ticks += 1  # runs only while the trainer does not hold the GIL
        trainer.join()
        self.assertTrue(done.is_set())
        self.assertGreater(ticks, 10000)


class BadInputTest(unittest.TestCase):
    def test_bad_inputs_raise_python_exceptions_naming_the_fix(self):
        s = ar1.AR1(num_classes=4, image_size=16)
        x, y = random_images(4)
        with self.assertRaisesRegex(TypeError, "uint8"):
            s.train(x.astype(np.int16), y)
        with self.assertRaisesRegex(ValueError, "dimensions"):
            s.train(x[0], y)
        with self.assertRaisesRegex(ValueError, "3 labels for 4 images"):
            s.train(x, y[:3])
        with self.assertRaisesRegex(ValueError, "label"):
            s.train(x, np.array([0, 1, 2, 7]))
        with self.assertRaisesRegex(TypeError, "integers"):
            s.train(x, y.astype(np.float32))
        with self.assertRaisesRegex(OSError, "does not exist"):
            ar1.AR1.load("/nonexistent/strategy.safetensors")
        with self.assertRaisesRegex(ValueError, "not found"):
            ar1.benchmark(dataset="fashion-mnist", data_root="/nonexistent")
        with self.assertRaisesRegex(ValueError, "scenario"):
            ar1.benchmark(dataset="fashion-mnist", scenario="nicv2_391", data_root=DATA)
        self.assertEqual(s.experiences_trained, 0)  # nothing learnt from bad calls


class ParityTest(unittest.TestCase):
    def test_parity_cli_short_run(self):
        """The same run from Python and from `ar1 train`: identical accuracies after every
        experience, on every test experience and on the stream."""
        b = small_benchmark(self)
        s = ar1.AR1(num_classes=b.n_classes, **SMALL)
        python_rows, python_stream = [], []
        for e in b.train_stream:
            s.train(e)
            m = s.eval(b.test_stream)
            python_rows.append([m[f"Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp{j:03d}"]
                                for j in range(len(b.test_stream))])
            python_stream.append(m["Top1_Acc_Stream/eval_phase/test_stream/Task000"])
        with tempfile.TemporaryDirectory() as d:
            # The wheel runs the portable kernels (it is a light build); so does this CLI, which
            # may be a build with oneDNN too.
            args = [os.environ["AR1_BINARY"], "train", "--out", os.path.join(d, "run"),
                    "--cpu-kernels", "portable"]
            for k, v in {**SCENARIO, **SMALL}.items():
                args += [f"--{k.replace('_', '-')}", str(v)]
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(d, "run", "results.json")) as f:
                cli = json.load(f)["runs"][0]
        print(f"\nPython {python_stream} / CLI {[e[0] for e in cli['experiences']]}")
        self.assertEqual(python_rows, cli["accuracy"])
        self.assertEqual(python_stream, [e[0] for e in cli["experiences"]])


if __name__ == "__main__":
    unittest.main()
