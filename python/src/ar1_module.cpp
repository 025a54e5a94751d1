// ar1._ar1: the C++ API (ar1.hpp, over the C API) for Python. numpy arrays in the layouts the
// C API reads are passed by pointer, without a copy; others are converted once. The GIL is
// released while the library works, so other Python threads run during training.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>

#include "ar1/ar1.hpp"

namespace py = pybind11;

namespace {

using U8Array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using F32Array = py::array_t<float, py::array::c_style | py::array::forcecast>;
using LabelArray = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

// A batch of images and the array it borrows from (kept alive while the call runs).
struct Batch {
  py::array owner;
  ar1::Images images;
};

// uint8 (N, H, W) or (N, H, W, C): AR1_U8_HWC; float32 or float64 (N, C, H, W) or (N, H, W)
// with values in 0..1: AR1_F32_CHW. C-contiguous uint8 and float32 arrays are used in place.
Batch batch_of(const py::array& x) {
  const py::dtype dt = x.dtype();
  if (dt.kind() == 'u' && dt.itemsize() == 1) {
    U8Array a = U8Array::ensure(x);
    if (a.ndim() != 3 && a.ndim() != 4) {
      throw py::value_error("[ar1] uint8 images must be (N, H, W) or (N, H, W, C), got " +
                            std::to_string(a.ndim()) + " dimensions");
    }
    const int64_t c = a.ndim() == 4 ? a.shape(3) : 1;
    return {a, ar1::Images::u8_hwc(a.data(), a.shape(0), a.shape(1), a.shape(2), c)};
  }
  if (dt.kind() == 'f') {
    F32Array a = F32Array::ensure(x);
    if (a.ndim() != 3 && a.ndim() != 4) {
      throw py::value_error("[ar1] float images must be (N, C, H, W) or (N, H, W), got " +
                            std::to_string(a.ndim()) + " dimensions");
    }
    if (a.ndim() == 3) {
      return {a, ar1::Images::f32_chw(a.data(), a.shape(0), 1, a.shape(1), a.shape(2))};
    }
    return {a, ar1::Images::f32_chw(a.data(), a.shape(0), a.shape(1), a.shape(2), a.shape(3))};
  }
  throw py::type_error("[ar1] images must be uint8 (N, H, W[, C]) in 0..255 or float32 (N, C, H, W) "
                       "in 0..1, got dtype " + py::repr(dt).cast<std::string>());
}

LabelArray labels_of(const py::array& y, int64_t count) {
  if (y.dtype().kind() != 'i' && y.dtype().kind() != 'u') {
    throw py::type_error("[ar1] labels must be integers, got dtype " + py::repr(y.dtype()).cast<std::string>());
  }
  LabelArray l = LabelArray::ensure(y);
  if (l.ndim() != 1 || l.shape(0) != count) {
    throw py::value_error("[ar1] " + std::to_string(l.ndim() == 1 ? l.shape(0) : l.size()) +
                          " labels for " + std::to_string(count) +
                          " images: pass one label per image, shape (N,)");
  }
  return l;
}

ar1_stream stream_of(const std::string& name) {
  if (name == "train") return AR1_TRAIN_STREAM;
  if (name == "test") return AR1_TEST_STREAM;
  throw py::value_error("[ar1] stream '" + name + "': pass 'train' or 'test'");
}

}  // namespace

PYBIND11_MODULE(_ar1, m) {
  m.doc() = "AR1 with latent replay on ar1's own engine: the C++ API for Python";

  // The C API's statuses as Python's usual exceptions.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ar1::ApiError& e) {
      switch (e.status()) {
        case AR1_ERROR_INVALID_ARGUMENT:
        case AR1_ERROR_CONFIG: PyErr_SetString(PyExc_ValueError, e.what()); return;
        case AR1_ERROR_IO: PyErr_SetString(PyExc_OSError, e.what()); return;
        case AR1_ERROR_OUT_OF_MEMORY: PyErr_SetString(PyExc_MemoryError, e.what()); return;
        default: PyErr_SetString(PyExc_RuntimeError, e.what()); return;
      }
    }
  });

  m.def("version", [] { return std::string(ar1_version()); });
  // The address the library reads an image array at: the array's own where no copy is made
  // (the tests check the zero-copy paths with it).
  m.def("_batch_address", [](const py::array& x) {
    return reinterpret_cast<uintptr_t>(batch_of(x).images.batch.data);
  });

  py::class_<ar1::Strategy>(m, "Strategy")
      .def(py::init<const std::string&>(), py::arg("config_json"))
      .def_static("load", [](const std::string& path) {
        py::gil_scoped_release release;
        return ar1::Strategy::load(path);
      })
      .def("train", [](ar1::Strategy& s, const py::array& x, const py::array& y) {
        const Batch b = batch_of(x);
        const LabelArray labels = labels_of(y, b.images.count());
        py::gil_scoped_release release;
        s.train(b.images, labels.data());
      })
      .def("evaluate", [](ar1::Strategy& s, const py::array& x, const py::array& y) {
        const Batch b = batch_of(x);
        const LabelArray labels = labels_of(y, b.images.count());
        ar1::Evaluation e;
        {
          py::gil_scoped_release release;
          e = s.evaluate(b.images, labels.data());
        }
        return py::make_tuple(e.accuracy, e.loss);
      })
      .def("predict_logits", [](ar1::Strategy& s, const py::array& x) {
        const Batch b = batch_of(x);
        py::array_t<float> logits({b.images.count(), s.num_classes()});
        float* out = logits.mutable_data();
        {
          py::gil_scoped_release release;
          s.predict_logits(b.images, out);
        }
        return logits;
      })
      .def("predict_topk", [](ar1::Strategy& s, const py::array& x, int32_t k) {
        const Batch b = batch_of(x);
        const int64_t kk = std::max<int32_t>(k, 0);
        py::array_t<int32_t> classes({b.images.count(), kk});
        py::array_t<float> probabilities({b.images.count(), kk});
        int32_t* c = classes.mutable_data();
        float* p = probabilities.mutable_data();
        {
          py::gil_scoped_release release;
          s.predict_topk(b.images, k, c, p);
        }
        return py::make_tuple(classes, probabilities);
      })
      .def("save", [](ar1::Strategy& s, const std::string& path) {
        py::gil_scoped_release release;
        s.save(path);
      })
      .def_property_readonly("num_classes", &ar1::Strategy::num_classes)
      .def_property_readonly("experiences_trained", &ar1::Strategy::experiences_trained);

  py::class_<ar1::Benchmark>(m, "Benchmark")
      .def(py::init([](const std::string& config_json) {
             py::gil_scoped_release release;
             return ar1::Benchmark(config_json);
           }),
           py::arg("config_json"))
      .def_property_readonly("num_classes", &ar1::Benchmark::num_classes)
      .def("num_experiences", [](const ar1::Benchmark& b, const std::string& stream) {
        return b.num_experiences(stream_of(stream));
      })
      .def("experience", [](const ar1::Benchmark& b, const std::string& stream, int64_t k) {
        const ar1_stream st = stream_of(stream);
        const ar1::Benchmark::Shape s = b.shape(st, k);
        py::array_t<uint8_t> x({s.count, s.height, s.width, s.channels});
        py::array_t<int32_t> y(s.count);
        uint8_t* px = x.mutable_data();
        int32_t* py_labels = y.mutable_data();
        {
          py::gil_scoped_release release;
          b.copy(st, k, px, py_labels);
        }
        return py::make_tuple(x, y);
      });
}
