#include "run/train_options.h"

#include <string>

#include "kernels/cpu_kernels.h"

namespace ar1::run {

OptionTable train_options() {
  OptionTable t("train", "Train AR1 (CWR* + latent replay + optional Synaptic Intelligence) "
                         "on a continual-learning scenario and write a run directory.");
  constexpr auto A = OptionGroup::Ar1;
  constexpr auto R = OptionGroup::Run;

  // Avalanche's AR1 constructor, in its order (SPEC section 3). The defaults are the embedded
  // main job's: SPEC 3c's recipe for learning from random weights on Fashion-MNIST (lr,
  // inc-lr, update rates, first-epochs, freeze-norm, freeze-below-layer, refresh-latents,
  // replay-wrap, recalibrate-norm, init, alpha, image size, 2000 images per class).
  // configs/avalanche.json restores the values of SPEC section 3 (Avalanche's defaults, for
  // pretrained weights).
  t.add_double("lr", 0.01, "SGD learning rate for the first experience", A).min = 0;
  t.add_double("inc-lr", 1e-3, "SGD learning rate for every later experience", A).min = 0;
  auto& momentum = t.add_double("momentum", 0.9, "SGD momentum", A);
  momentum.min = 0, momentum.max = 1;
  t.add_double("l2", 5e-4, "weight decay (L2 penalty) added to the gradient", A).min = 0;
  t.add_int("train-epochs", 4, "epochs per experience", A).min = 1;
  auto& iur = t.add_double("init-update-rate", 0.1,
                           "BatchReNorm running-statistics momentum in the first experience", A);
  iur.min = 0, iur.max = 1;
  auto& incur = t.add_double("inc-update-rate", 0.01,
                             "BatchReNorm running-statistics momentum in later experiences", A);
  incur.min = 0, incur.max = 1;
  t.add_double("max-r-max", 1.25, "cap of the BatchReNorm r clip", A).min = 1;
  t.add_double("max-d-max", 0.5, "cap of the BatchReNorm d clip", A).min = 0;
  t.add_double("inc-step", 4.1e-5, "growth of r_max and d_max per training image (after each forward: += inc-step * batch)", A)
      .min = 0;
  t.add_int("rm-sz", 1500, "latent replay memory size (patterns, shared by all classes)", A)
      .min = 0;
  t.add_string("freeze-below-layer", "end_features.0.conv",
               "first layer left trainable after the first experience (layers before it are "
               "frozen)", A, "LAYER");
  t.add_int("latent-layer-num", 19, "layer whose output is stored in the replay memory", A)
      .min = 0;
  t.add_double("ewc-lambda", 0.0, "Synaptic Intelligence strength; 0 turns it off", A).min = 0;
  t.add_int("train-mb-size", 128, "training minibatch size (new plus replayed patterns)", A)
      .min = 1;
  t.add_int("eval-mb-size", 128, "evaluation minibatch size", A).min = 1;
  t.add_int("eval-every", -1,
            "evaluate every N epochs during training; -1: only after each experience", A)
      .min = -1;

  // SPEC 3b and 3c: not in Avalanche.
  t.add_int("first-epochs", 10, "epochs of the first experience; 0: same as --train-epochs", A)
      .min = 0;
  t.add_double("first-lr", 0.0, "learning rate of the first experience; 0: same as --lr", A)
      .min = 0;
  t.add_bool("freeze-norm", true,
             "also freeze the BatchReNorm gamma and beta below --freeze-below-layer (as in "
             "the original paper)", A);
  t.add_bool("refresh-latents", true,
             "recompute the kept latents with the final weights before they enter the memory",
             A);
  t.add_bool("latent-cache", true,
             "reuse the frozen lower layers' activations between epochs (exact; only where "
             "the training pipeline is not random)", A);
  t.add_bool("eval-latent-cache", true,
             "compute each evaluation image's frozen lower layers once and reuse them in every "
             "later evaluation (exact)", A);
  t.add_int("eval-latent-cache-mib", 1024,
            "memory the evaluation latent cache may take, MiB (beyond it latents are recomputed)",
            A).min = 0;
  // On in the main job: without them a long stream of small experiences collapses again and
  // again (configs/nic_long.json), and they cost nothing on the 21 experiences.
  t.add_bool("replay-wrap", true,
             "replayed latents wrap around the memory so that the last minibatch of an "
             "experience is not a lone tail of a few new images (long streams of small "
             "experiences)", A);
  t.add_bool("recalibrate-norm", true,
             "after each experience, set the BatchReNorm statistics above the latent layer to "
             "those of the replay memory under the final weights", A);
  t.add_enum("replay-dtype", {"f32", "f16", "bf16", "u8"}, "f32",
             "storage type of the replay memory (u8: per-channel quantised)", A);
  t.add_enum("init", {"pytorch", "kaiming", "kaiming-fan-out"}, "kaiming",
             "initialisation of conv weights without --weights (kaiming: normal, fan_in, "
             "SPEC.md 3c; kaiming-fan-out: the per-group fan_out of earlier versions)", A);

  // Run settings.
  t.add_enum("dataset", {"fashion-mnist", "mnist", "cifar10", "cifar100", "core50", "folder"},
             "fashion-mnist", "dataset", R);
  t.add_string("data-root", "", "dataset directory; empty: the dataset's usual place", R,
               "DIR");
  t.add_enum("scenario",
             {"nic", "nc", "ni", "nicv2_391", "nicv2_196", "nicv2_79", "ni_inc", "nc_inc",
              "nic_inc"},
             "nic", "continual-learning scenario (nicv2_*, ni_inc, nc_inc, nic_inc: CORe50 only)",
             R);
  t.add_int("run", 0, "scenario run (class order / CORe50 file-list run)", R).min = 0;
  t.add_int("seed", 0, "seed of every random choice (shuffling, replay, initialisation)", R);
  t.add_enum("device", {"cpu", "cuda"}, "cpu", "where to train (cuda:N: the N-th GPU)", R)
      .indexed = {"cuda"};
  t.add_int("threads", 0, "CPU threads; 0: all cores", R).min = 0;
  t.add_enum("precision", {"f32", "bf16"}, "f32",
             "what convolutions compute in: bf16 rounds their inputs to bfloat16 and sums in "
             "f32 (tensors, weights and SGD stay f32; CPU with AVX-512 only)", R);
  t.add_enum("cpu-kernels", {"portable", "onednn"},
             std::string(kernels::cpu_kernels_name(kernels::default_cpu_kernels())),
             "the CPU convolutions: portable (ours: the same bits on every machine) or onednn "
             "(the default where built: fast, bits that depend on the CPU's instruction set)",
             R);
  t.add_enum("on-nonfinite", {"stop", "skip"}, "stop",
             "a NaN or infinity in the loss, a gradient, a weight or a BatchReNorm statistic: "
             "stop the run (exit status 3, last checkpoint kept) or skip that minibatch", R);
  t.add_bool("deterministic", false,
             "on a GPU: only deterministic cuDNN algorithms, so two runs give bit-identical "
             "weights (the CPU always is)", R);
  t.add_bool("cuda-graphs", true,
             "on a GPU: replay the training step and the evaluation forward as CUDA graphs once "
             "their shapes repeat", R);
  t.add_enum("replay-placement", {"auto", "device", "host"}, "auto",
             "on a GPU: the replay memory on the device, or in page-locked host memory copied "
             "per minibatch; auto: on the device when it fits in --replay-device-share", R);
  auto& share = t.add_double("replay-device-share", 0.25,
                             "share of the GPU's free memory the replay memory may take on the "
                             "device (--replay-placement auto)", R);
  share.min = 0, share.max = 1;
  t.add_string("weights", "", "initial weights (safetensors from the converter); empty: "
                              "random initialisation (see --init)", R, "PATH");
  t.add_string("out", "", "run directory; empty: runs/<date>-<time>", R, "DIR");
  t.add_string("resume", "", "continue the run in this run directory from its last checkpoint",
               R, "DIR");
  t.add_enum("baseline", {"none", "naive"}, "none",
             "also train a baseline on the same scenario for the report", R);
  t.add_int("limit", 0, "at most this many training images per experience; 0: all", R).min = 0;
  t.add_double("alpha", 0.5, "MobileNetV1 width multiplier", R).min = 0;
  t.add_int("image-size", 32, "input side in pixels (images are resized to it)", R).min = 8;
  t.add_int("train-per-class", 2000,
            "training images per class taken from the dataset; 0: all", R).min = 0;
  t.add_int("test-per-class", 0, "test images per class; 0: all", R).min = 0;
  t.add_int("workers", 0, "data loader threads (0: load on the training thread; use 2 for image files such as CORe50)", R).min = 0;
  t.add_int("stop-after", 0, "stop after this many experiences (the run can be continued "
            "with --resume); 0: run them all", R).min = 0;
  t.add_int("n-experiences", 0, "training experiences; 0: the scenario's default", R).min = 0;

  // What PyTorch, Keras and other continual-learning code call some of these: an unknown
  // "learning_rate" then gets "did you mean lr?".
  t.spec("lr").known_elsewhere = {"learning-rate", "lr0", "base-lr"};
  t.spec("l2").known_elsewhere = {"weight-decay", "wd", "l2-penalty"};
  t.spec("train-epochs").known_elsewhere = {"n-epochs", "num-epochs", "max-epochs"};
  t.spec("train-mb-size").known_elsewhere = {"batch-size", "train-batch-size", "mb-size"};
  t.spec("eval-mb-size").known_elsewhere = {"eval-batch-size", "test-batch-size"};
  t.spec("rm-sz").known_elsewhere = {"mem-size", "memory-size", "replay-size", "buffer-size"};
  t.spec("n-experiences").known_elsewhere = {"num-experiences", "n-tasks", "num-tasks"};
  t.spec("seed").known_elsewhere = {"random-seed", "random-state"};
  t.spec("threads").known_elsewhere = {"num-threads", "n-jobs", "nthreads"};
  return t;
}

}  // namespace ar1::run
