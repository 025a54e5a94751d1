/* Learning new objects from a camera, one short session at a time (the use case of the AR1
 * authors' Android app), on the C API.
 *
 *   camera_sessions FRAMES_DIR [MODEL] [CONFIG_JSON]
 *
 * FRAMES_DIR holds one folder per session (session_00, session_01, ... in name order), each
 * with a folder per object, named by its class id, of frames (PNG or JPEG files of one size):
 *   FRAMES_DIR/session_00/0/frame_000.png  FRAMES_DIR/session_00/1/...  FRAMES_DIR/session_01/2/...
 * Each session is first shown to the model as new frames, which it predicts (what the app
 * would display), then learnt as one AR1 experience. FRAMES_DIR/test, if present, is
 * evaluated after every session. With MODEL the strategy is saved there at the end, loaded
 * back, and its predictions compared with the live one's. CONFIG_JSON replaces the default
 * config (it must name num_classes). */
#define _POSIX_C_SOURCE 200809L /* strdup, opendir */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ar1/ar1.h>

#define MAX_CLASSES 10

static const char* const kDefaultConfig =
    "{\"num_classes\": 10, \"image_size\": 32, \"alpha\": 0.25, \"first_epochs\": 8, "
    "\"train_epochs\": 4, \"rm_sz\": 200, \"train_mb_size\": 32, \"seed\": 0}";

/* The frames of one folder tree, decoded: count images of height x width x channels. */
typedef struct {
  uint8_t* pixels;
  int32_t* labels;
  int64_t count, capacity, height, width, channels;
} frames;

static int fail(const char* what) {
  fprintf(stderr, "camera_sessions: %s: %s\n", what, ar1_last_error());
  return 1;
}

static int by_name(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

/* The entry names of dir (no "." or ".."), sorted; *count of them. NULL if dir cannot be read. */
static char** list_dir(const char* dir, int* count) {
  DIR* d = opendir(dir);
  if (d == NULL) return NULL;
  char** names = NULL;
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    names = realloc(names, sizeof(char*) * (size_t)(n + 1));
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof(char*), by_name);
  *count = n;
  return names;
}

/* out = a/b; 1 (with a message) when it does not fit. */
static int join(char* out, size_t size, const char* a, const char* b) {
  const int n = snprintf(out, size, "%s/%s", a, b);
  if (n >= 0 && (size_t)n < size) return 0;
  fprintf(stderr, "camera_sessions: the path %s/%s is too long\n", a, b);
  return 1;
}

static int is_dir(const char* path) {
  DIR* d = opendir(path);
  if (d != NULL) closedir(d);
  return d != NULL;
}

static void free_names(char** names, int count) {
  for (int i = 0; i < count; ++i) free(names[i]);
  free(names);
}

static int add_frame(frames* f, const char* path, int32_t label) {
  uint8_t* pixels = NULL;
  int64_t h = 0, w = 0, c = 0;
  if (ar1_read_image(path, &pixels, &h, &w, &c) != AR1_OK) return fail("reading a frame");
  if (f->count > 0 && (h != f->height || w != f->width || c != f->channels)) {
    fprintf(stderr, "camera_sessions: %s is %lldx%lldx%lld, the session's other frames are "
            "%lldx%lldx%lld: a session's frames share one size\n", path, (long long)h,
            (long long)w, (long long)c, (long long)f->height, (long long)f->width,
            (long long)f->channels);
    ar1_free(pixels);
    return 1;
  }
  f->height = h, f->width = w, f->channels = c;
  const int64_t frame = h * w * c;
  if (f->count == f->capacity) {
    f->capacity = f->capacity ? 2 * f->capacity : 64;
    f->pixels = realloc(f->pixels, (size_t)(f->capacity * frame));
    f->labels = realloc(f->labels, sizeof(int32_t) * (size_t)f->capacity);
  }
  memcpy(f->pixels + f->count * frame, pixels, (size_t)frame);
  f->labels[f->count++] = label;
  ar1_free(pixels);
  return 0;
}

/* Every frame under dir/<class id>/. */
static int load_frames(const char* dir, frames* f) {
  memset(f, 0, sizeof *f);
  int n_classes = 0;
  char** classes = list_dir(dir, &n_classes);
  if (classes == NULL) {
    fprintf(stderr, "camera_sessions: cannot read the folder %s\n", dir);
    return 1;
  }
  int status = 0;
  for (int i = 0; i < n_classes && status == 0; ++i) {
    char* end = NULL;
    const long label = strtol(classes[i], &end, 10);
    if (*end != '\0' || label < 0 || label >= MAX_CLASSES) {
      fprintf(stderr, "camera_sessions: %s/%s: object folders are named by class id, 0 to %d\n",
              dir, classes[i], MAX_CLASSES - 1);
      status = 1;
      break;
    }
    char class_dir[4096];
    if (join(class_dir, sizeof class_dir, dir, classes[i]) != 0) {
      status = 1;
      break;
    }
    int n_files = 0;
    char** files = list_dir(class_dir, &n_files);
    for (int k = 0; files != NULL && k < n_files && status == 0; ++k) {
      char path[4096];
      status = join(path, sizeof path, class_dir, files[k]);
      if (status == 0) status = add_frame(f, path, (int32_t)label);
    }
    if (files != NULL) free_names(files, n_files);
  }
  free_names(classes, n_classes);
  if (status == 0 && f->count == 0) {
    fprintf(stderr, "camera_sessions: no frames under %s\n", dir);
    status = 1;
  }
  return status;
}

static ar1_images images_of(const frames* f) {
  ar1_images im = {f->pixels, AR1_U8_HWC, f->count, f->height, f->width, f->channels};
  return im;
}

static void free_frames(frames* f) {
  free(f->pixels);
  free(f->labels);
}

/* Top-1 prediction of every frame; returns how many match their label, or -1. */
static int64_t recognised(ar1_strategy* s, const frames* f, int32_t* predicted) {
  const ar1_images im = images_of(f);
  float* p = malloc(sizeof(float) * (size_t)f->count);
  const ar1_status status = ar1_predict_topk(s, &im, 1, predicted, p);
  free(p);
  if (status != AR1_OK) return -1;
  int64_t hits = 0;
  for (int64_t i = 0; i < f->count; ++i) hits += predicted[i] == f->labels[i];
  return hits;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: camera_sessions FRAMES_DIR [MODEL] [CONFIG_JSON]\n");
    return 2;
  }
  const char* root = argv[1];
  const char* model = argc > 2 ? argv[2] : NULL;
  ar1_strategy* s = NULL;
  if (ar1_create(argc > 3 ? argv[3] : kDefaultConfig, &s) != AR1_OK) return fail("config");
  printf("ar1 %s\n", ar1_version());

  char test_dir[4096];
  if (join(test_dir, sizeof test_dir, root, "test") != 0) return 1;
  frames test = {0};
  const int have_test = is_dir(test_dir);
  if (have_test && load_frames(test_dir, &test) != 0) return 1;

  int n_sessions = 0;
  char** sessions = list_dir(root, &n_sessions);
  if (sessions == NULL) {
    fprintf(stderr, "camera_sessions: cannot read the folder %s\n", root);
    return 1;
  }
  int status = 0, trained = 0;
  for (int i = 0; i < n_sessions && status == 0; ++i) {
    if (strncmp(sessions[i], "session", 7) != 0) continue;
    char dir[4096];
    frames f;
    if (join(dir, sizeof dir, root, sessions[i]) != 0 || load_frames(dir, &f) != 0) {
      status = 1;
      break;
    }
    int32_t* predicted = malloc(sizeof(int32_t) * (size_t)f.count);
    if (trained > 0) {
      const int64_t hits = recognised(s, &f, predicted);
      if (hits < 0) status = fail("predicting");
      else printf("%s: %lld frames, %lld recognised before learning them\n", sessions[i],
                  (long long)f.count, (long long)hits);
    }
    const ar1_images im = images_of(&f);
    if (status == 0 && ar1_train(s, &im, f.labels) != AR1_OK) status = fail("training");
    if (status == 0) {
      ++trained;
      printf("%s: learnt %lld frames\n", sessions[i], (long long)f.count);
      if (have_test) {
        double acc = 0;
        const ar1_images t = images_of(&test);
        if (ar1_evaluate(s, &t, test.labels, &acc, NULL) != AR1_OK) status = fail("evaluating");
        else printf("%s: test accuracy %.4f\n", sessions[i], acc);
      }
    }
    free(predicted);
    free_frames(&f);
  }
  free_names(sessions, n_sessions);
  if (status == 0 && trained == 0) {
    fprintf(stderr, "camera_sessions: no session_* folders in %s\n", root);
    status = 1;
  }

  if (status == 0 && model != NULL && have_test) {
    ar1_strategy* loaded = NULL;
    if (ar1_save(s, model) != AR1_OK) status = fail("saving");
    else if (ar1_load(model, &loaded) != AR1_OK) status = fail("loading");
    if (status == 0) {
      int32_t* live = malloc(sizeof(int32_t) * (size_t)test.count);
      int32_t* again = malloc(sizeof(int32_t) * (size_t)test.count);
      if (recognised(s, &test, live) < 0 || recognised(loaded, &test, again) < 0) {
        status = fail("predicting");
      } else {
        const int same = memcmp(live, again, sizeof(int32_t) * (size_t)test.count) == 0;
        printf("saved to %s; the loaded model predicts %s\n", model,
               same ? "the same classes" : "DIFFERENT classes");
        status = same ? 0 : 1;
      }
      free(live);
      free(again);
    }
    ar1_destroy(loaded);
  }
  if (have_test) free_frames(&test);
  ar1_destroy(s);
  return status;
}
