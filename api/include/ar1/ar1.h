/* ar1: AR1 continual learning with latent replay, as a C library.
 *
 * A strategy is a MobileNetV1 trained by AR1 (CWR* + latent replay + optional Synaptic
 * Intelligence). Create one from a JSON config, feed it one experience (a batch of labelled
 * images held in memory) at a time with ar1_train, and ask it for logits, top-k classes or
 * accuracy in between. ar1_save writes everything needed to continue to one file, ar1_load
 * opens it again.
 *
 *   ar1_strategy* s = NULL;
 *   if (ar1_create("{\"num_classes\": 10, \"image_size\": 32}", &s) != AR1_OK)
 *     fprintf(stderr, "%s\n", ar1_last_error());
 *   ar1_images batch = {pixels, AR1_U8_HWC, n, 28, 28, 1};
 *   ar1_train(s, &batch, labels);
 *   ar1_predict_topk(s, &batch, 1, classes, scores);
 *   ar1_destroy(s);
 *
 * Errors: every function but ar1_destroy, ar1_version and ar1_last_error returns an
 * ar1_status; on anything but AR1_OK, ar1_last_error() gives a one-line message naming the
 * problem and the fix, and every output is left untouched. No C++ exception crosses this
 * interface.
 *
 * Threads: each strategy holds a lock, so calls on one strategy from several threads are
 * safe and run one after another; different strategies train and predict concurrently from
 * different threads (each call uses OpenMP threads of its own). ar1_last_error() is per
 * thread: it reports the last failed call of the calling thread. The CPU thread count, the
 * convolution precision and the CPU kernel set are process-wide: the "threads", "precision"
 * and "cpu_kernels" config keys of ar1_create change them for every strategy in the process.
 *
 * The config: a JSON object with "num_classes" (required) and any option of `ar1 train`
 * (`ar1 train --help`), underscores or dashes, e.g. {"num_classes": 5, "lr": 0.01,
 * "train_epochs": 4, "rm_sz": 1500, "latent_layer_num": 19, "image_size": 64,
 * "alpha": 0.5, "seed": 0}. Keys about datasets and run directories are accepted and
 * ignored. Every image is resized to image_size x image_size and normalised as `ar1 train`
 * does; the same config and seed give bit-identical results on the CPU.
 */
#ifndef AR1_AR1_H
#define AR1_AR1_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define AR1_API
#else
#define AR1_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ar1_status {
  AR1_OK = 0,
  AR1_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a bad shape, a label out of range */
  AR1_ERROR_CONFIG = 2,           /* malformed JSON, an unknown key, a value out of range */
  AR1_ERROR_IO = 3,               /* a checkpoint that cannot be written or read */
  AR1_ERROR_RUNTIME = 4,          /* training or prediction failed (message says why) */
  AR1_ERROR_OUT_OF_MEMORY = 5,
  AR1_ERROR_INTERNAL = 6          /* a bug: please report the message */
} ar1_status;

typedef enum ar1_layout {
  AR1_U8_HWC = 0,  /* uint8_t pixels, [count, height, width, channels], 0..255 */
  AR1_F32_CHW = 1  /* float, [count, channels, height, width], 0..1; pixel / 255.f gives
                      the bits the same image gives as AR1_U8_HWC */
} ar1_layout;

/* A batch of images in memory, borrowed for the duration of one call. channels is 1 (grey)
 * or 3 (RGB); images of any size are resized to the config's image_size. */
typedef struct ar1_images {
  const void* data;
  ar1_layout layout;
  int64_t count;
  int64_t height;
  int64_t width;
  int64_t channels;
} ar1_images;

typedef struct ar1_strategy ar1_strategy;

/* "0.1.0": the library's version. */
AR1_API const char* ar1_version(void);
/* The message of the calling thread's last failed call ("" if none). Valid until that
 * thread's next failing call. */
AR1_API const char* ar1_last_error(void);

/* A new strategy with random weights (seeded by the config's "seed"). */
AR1_API ar1_status ar1_create(const char* config_json, ar1_strategy** out);
/* Frees the strategy; NULL is ignored. */
AR1_API void ar1_destroy(ar1_strategy* strategy);

/* Trains one experience: images with their labels (labels[i] in [0, num_classes)). The first
 * call trains the whole network; later ones train above the latent layer, replaying the
 * memory (AR1). A bad argument changes nothing; a failure during training (AR1_ERROR_RUNTIME,
 * e.g. a NaN loss) may leave the experience half learnt: ar1_load the last save to go back. */
AR1_API ar1_status ar1_train(ar1_strategy* strategy, const ar1_images* images,
                             const int32_t* labels);

/* logits: count * num_classes floats, row i for image i. */
AR1_API ar1_status ar1_predict_logits(ar1_strategy* strategy, const ar1_images* images,
                                      float* logits);
/* The k most probable classes of each image, best first: classes and probabilities
 * (softmax of the logits) are count * k entries, row i for image i; 1 <= k <= num_classes. */
AR1_API ar1_status ar1_predict_topk(ar1_strategy* strategy, const ar1_images* images, int32_t k,
                                    int32_t* classes, float* probabilities);
/* Top-1 accuracy (0..1) and mean cross-entropy on labelled images; either output may be
 * NULL. */
AR1_API ar1_status ar1_evaluate(ar1_strategy* strategy, const ar1_images* images,
                                const int32_t* labels, double* accuracy, double* loss);

/* Classes the strategy predicts, and experiences trained so far. */
AR1_API ar1_status ar1_num_classes(const ar1_strategy* strategy, int64_t* out);
AR1_API ar1_status ar1_experiences_trained(const ar1_strategy* strategy, int64_t* out);

/* Everything needed to continue (weights, optimiser, CWR*, SI, replay memory, RNG, config),
 * written to a temporary file and renamed into place. */
AR1_API ar1_status ar1_save(ar1_strategy* strategy, const char* path);
/* A strategy from a file ar1_save wrote; refuses a truncated or corrupted file. */
AR1_API ar1_status ar1_load(const char* path, ar1_strategy** out);

/* A continual-learning benchmark (dataset + scenario) as `ar1 train` builds it, so that an
 * embedder (the Python package) trains on exactly the CLI's experiences. config_json holds
 * `ar1 train`'s data options: "dataset", "data_root", "scenario", "n_experiences", "run",
 * "train_per_class", "test_per_class", "limit" (any other `ar1 train` key is accepted and
 * ignored, so one config serves ar1_create and this). */
typedef struct ar1_benchmark ar1_benchmark;
/* The `stream` arguments below take these values (as an int32_t, so that any value a caller
 * passes is defined behaviour and gets AR1_ERROR_INVALID_ARGUMENT when it is neither). */
typedef enum ar1_stream { AR1_TRAIN_STREAM = 0, AR1_TEST_STREAM = 1 } ar1_stream;

AR1_API ar1_status ar1_benchmark_create(const char* config_json, ar1_benchmark** out);
AR1_API void ar1_benchmark_destroy(ar1_benchmark* benchmark);
AR1_API ar1_status ar1_benchmark_num_classes(const ar1_benchmark* benchmark, int64_t* out);
AR1_API ar1_status ar1_benchmark_num_experiences(const ar1_benchmark* benchmark,
                                                 int32_t stream, int64_t* out);
/* Experience k of a stream: its image count and the images' size (all of one size: a dataset
 * of mixed sizes is refused here). */
AR1_API ar1_status ar1_benchmark_experience_shape(const ar1_benchmark* benchmark,
                                                  int32_t stream, int64_t k, int64_t* count,
                                                  int64_t* height, int64_t* width,
                                                  int64_t* channels);
/* Copies experience k's images (count * height * width * channels bytes, AR1_U8_HWC) and
 * labels (count entries), in the order `ar1 train` trains them; either output may be NULL. */
AR1_API ar1_status ar1_benchmark_experience(const ar1_benchmark* benchmark, int32_t stream,
                                            int64_t k, uint8_t* pixels, int32_t* labels);

/* Decodes a PNG or JPEG file (a camera frame saved to disk) into 8-bit pixels, HWC, 1 or 3
 * channels: *pixels is allocated by the library (malloc) and freed with ar1_free. */
AR1_API ar1_status ar1_read_image(const char* path, uint8_t** pixels, int64_t* height,
                                  int64_t* width, int64_t* channels);
AR1_API void ar1_free(void* memory);

#ifdef __cplusplus
}
#endif

#endif /* AR1_AR1_H */
