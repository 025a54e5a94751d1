#include "run/setup.h"

#include <filesystem>

#include "core/io/safetensors.h"
#include "data/cifar_reader.h"
#include "data/core50.h"
#include "data/idx_reader.h"
#include "data/image_folder.h"
#include "data/nc_scenario.h"
#include "data/ni_scenario.h"
#include "data/nic_scenario.h"
#include "kernels/device.h"

namespace ar1::run {

namespace fs = std::filesystem;

std::string default_data_root(const std::string& dataset) {
  if (dataset == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  if (dataset == "mnist") return "/usr/share/datasets/mnist";
  if (dataset == "cifar10") return "data/cifar-10-batches-bin";
  if (dataset == "cifar100") return "data/cifar-100-binary";
  if (dataset == "core50") return "data/core50";
  return "data/images";
}

namespace {

std::string root_of(const ResolvedOptions& o) {
  const std::string& given = o.str("data-root");
  const std::string dataset = o.str("dataset");
  const std::string root = given.empty() ? default_data_root(dataset) : given;
  if (fs::exists(root)) return root;
  if (dataset == "fashion-mnist" || dataset == "mnist") {
    AR1_FAIL("[ar1] ", dataset, " data not found at ", root, ": install it (apt-get install "
             "dataset-", dataset, ") or pass --data-root DIR holding the four IDX files");
  }
  if (dataset == "core50") {
    AR1_FAIL("[ar1] CORe50 not found at ", root, ": download core50_128x128.zip and "
             "batches_filelists.zip (and NICv2 lists) from the CORe50 site "
             "(vlomonaco.github.io/core50), unzip both into one folder so that it holds "
             "core50_128x128/s1/o1/C_01_01_000.png ... and "
             "batches_filelists/NICv2_391/run0/train_batch_00_filelist.txt, then pass "
             "--data-root that folder");
  }
  if (dataset == "folder") {
    AR1_FAIL("[ar1] image folder not found at ", root, ": pass --data-root DIR holding "
             "train/<class>/*.png|jpg and test/<class>/*.png|jpg");
  }
  AR1_FAIL("[ar1] ", dataset, " not found at ", root, ": download the binary version and pass "
           "--data-root to the folder holding its batch files");
}

// The first `limit` images of each training experience (0: all).
void apply_limit(data::Benchmark& b, int64_t limit) {
  if (limit <= 0) return;
  for (auto& e : b.train_stream) {
    if (e.size() <= limit) continue;
    std::vector<int64_t> first(e.dataset->indices().begin(),
                               e.dataset->indices().begin() + limit);
    e = data::make_experience(e.index, e.dataset->parent(), first);
  }
}

}  // namespace

data::Pipeline make_pipeline(const ResolvedOptions& o) {
  return data::standard_pipeline(o.integer("image-size"));
}

data::Benchmark make_benchmark(const ResolvedOptions& o) {
  const std::string dataset = o.str("dataset");
  const std::string scenario = o.str("scenario");
  const bool generated = scenario == "nic" || scenario == "nc" || scenario == "ni";
  AR1_CHECK(dataset != "core50" || !generated, "[ar1] --scenario ", scenario, " is a generated "
            "scenario; CORe50 uses its own file lists: pick one of nicv2_391, nicv2_196, "
            "nicv2_79, ni_inc, nc_inc, nic_inc");
  AR1_CHECK(dataset == "core50" || generated, "[ar1] --scenario ", scenario,
            " needs --dataset core50; for ", dataset, " use nic, nc or ni");
  const std::string root = root_of(o);
  const auto run = static_cast<uint64_t>(o.integer("run"));
  const int64_t n_exp = o.integer("n-experiences");
  data::Benchmark b;
  if (dataset == "core50") {
    data::Core50Options c;
    const std::string name = scenario == "ni_inc"    ? "ni"
                             : scenario == "nc_inc"  ? "nc"
                             : scenario == "nic_inc" ? "nic"
                                                     : scenario;
    c.scenario = data::parse_core50_scenario(name);
    c.run = static_cast<int>(run);
    if (n_exp > 0) c.n_batches = n_exp;
    b = data::core50_benchmark(root, c);
  } else {
    data::DatasetPtr train, test;
    if (dataset == "fashion-mnist" || dataset == "mnist") {
      train = data::load_mnist_folder(root, data::Split::train);
      test = data::load_mnist_folder(root, data::Split::test);
    } else if (dataset == "cifar10" || dataset == "cifar100") {
      const auto kind = dataset == "cifar10" ? data::CifarKind::cifar10 : data::CifarKind::cifar100_fine;
      train = data::load_cifar_folder(root, kind, data::Split::train);
      test = data::load_cifar_folder(root, kind, data::Split::test);
    } else {
      train = data::load_image_folder(fs::path(root) / "train").dataset;
      test = data::load_image_folder(fs::path(root) / "test").dataset;
    }
    if (o.integer("train-per-class") > 0) train = data::take_per_class(train, o.integer("train-per-class"));
    if (o.integer("test-per-class") > 0) test = data::take_per_class(test, o.integer("test-per-class"));
    if (scenario == "nic") {
      data::NicOptions n;
      n.seed = run;
      if (n_exp > 0) n.n_chunks = n_exp - 1;
      b = data::nic_benchmark(train, test, n);
    } else if (scenario == "nc") {
      data::NcOptions n;
      n.seed = run;
      if (n_exp > 0) n.n_experiences = n_exp;
      b = data::nc_benchmark(train, test, n);
    } else {
      data::NiOptions n;
      n.seed = run;
      if (n_exp > 0) n.n_experiences = n_exp;
      b = data::ni_benchmark(train, test, n);
    }
  }
  apply_limit(b, o.integer("limit"));
  return b;
}

std::shared_ptr<nn::MobileNetV1> make_model(const ResolvedOptions& o, int64_t num_classes) {
  nn::MobileNetConfig c;
  c.alpha = o.number("alpha");
  c.num_classes = num_classes;
  c.latent_layer_num = o.integer("latent-layer-num");
  c.input_size = o.integer("image-size");
  c.bn.momentum = o.number("init-update-rate");
  Generator gen(static_cast<uint64_t>(o.integer("seed")) ^ 0x5eedull);
  const std::string& name = o.str("init");
  const auto init = name == "kaiming"           ? nn::WeightInit::kaiming_normal_relu
                    : name == "kaiming-fan-out" ? nn::WeightInit::kaiming_normal_relu_fan_out
                                                : nn::WeightInit::pytorch_default;
  auto model = std::make_shared<nn::MobileNetV1>(c, gen, init);
  const std::string& weights = o.str("weights");
  if (!weights.empty()) {
    AR1_CHECK(fs::exists(weights), "[ar1] --weights ", weights, " does not exist; make one with "
              "tools/convert_pytorch_weights.py");
    const SafetensorsFile f = load_safetensors(weights);
    try {
      model->load_state_dict(f.tensors());
    } catch (const Error& e) {
      AR1_FAIL("[ar1] --weights ", weights, " do not fit MobileNetV1(alpha ", c.alpha, ", ",
               num_classes, " classes, latent layer ", c.latent_layer_num, "): ", e.what());
    }
  }
  return model;
}

strategy::AR1Options make_ar1_options(const ResolvedOptions& o) {
  strategy::AR1Options a;
  a.lr = o.number("lr");
  a.inc_lr = o.number("inc-lr");
  a.momentum = o.number("momentum");
  a.l2 = o.number("l2");
  a.train_epochs = o.integer("train-epochs");
  a.init_update_rate = o.number("init-update-rate");
  a.inc_update_rate = o.number("inc-update-rate");
  a.max_r_max = o.number("max-r-max");
  a.max_d_max = o.number("max-d-max");
  a.inc_step = o.number("inc-step");
  a.rm_sz = o.integer("rm-sz");
  a.freeze_below_layer = o.str("freeze-below-layer");
  a.latent_layer_num = o.integer("latent-layer-num");
  a.ewc_lambda = o.number("ewc-lambda");
  a.train_mb_size = o.integer("train-mb-size");
  a.eval_mb_size = o.integer("eval-mb-size");
  a.eval_every = static_cast<int>(o.integer("eval-every"));
  a.first_epochs = o.integer("first-epochs");
  a.first_lr = o.number("first-lr");
  a.freeze_norm = o.flag("freeze-norm");
  a.refresh_latents = o.flag("refresh-latents");
  a.latent_cache = o.flag("latent-cache");
  a.eval_latent_cache = o.flag("eval-latent-cache");
  a.eval_latent_cache_mib = o.integer("eval-latent-cache-mib");
  a.replay_wrap = o.flag("replay-wrap");
  a.recalibrate_norm = o.flag("recalibrate-norm");
  a.replay_dtype = strategy::parse_replay_dtype(o.str("replay-dtype"));
  a.seed = static_cast<uint64_t>(o.integer("seed"));
  a.num_workers = static_cast<int>(o.integer("workers"));
  a.device = parse_device(o);
  a.deterministic = o.flag("deterministic");
  a.cuda_graphs = o.flag("cuda-graphs");
  a.replay_placement = strategy::parse_replay_placement(o.str("replay-placement"));
  a.replay_device_share = o.number("replay-device-share");
  a.train_pipeline = a.eval_pipeline = make_pipeline(o);
  return a;
}

Device parse_device(const ResolvedOptions& o) {
  // "cpu", "cuda" (GPU 0) or "cuda:N"; the option table has checked the form.
  const std::string s = o.str("device");
  const Device d = s == "cpu" ? Device::cpu()
                   : s == "cuda" ? Device::cuda(0)
                                 : Device::cuda(std::stoi(s.substr(s.find(':') + 1)));
  kernels::require_device(d);  // no CUDA build, no GPU, or no GPU N: a message naming the fix
  return d;
}

}  // namespace ar1::run
