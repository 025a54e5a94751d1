#pragma once
// Small on-disk fixtures the data tests write for themselves into a fresh temp folder:
// IDX pairs (plain and gzip), CIFAR batches, PNG/JPEG images and a miniature CORe50 tree.
#include <zlib.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/image_encode.h"

namespace ar1::data::testing {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ar1_data_test_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> read_bytes_for_test(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// write_png, creating the parent folders first.
inline void put_png(const fs::path& path, const Image& image) {
  fs::create_directories(path.parent_path());
  write_png(path, image);
}

inline void write_gz(const fs::path& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.string().c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline void put_u32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// Image i of the IDX fixture: pixel (y, x) = (i * 31 + y * 5 + x) mod 256.
inline uint8_t idx_pixel(int64_t i, int64_t y, int64_t x) {
  return static_cast<uint8_t>((i * 31 + y * 5 + x) % 256);
}

// IDX images [n, rows, cols] and labels (i % num_classes) as raw bytes.
inline std::vector<uint8_t> idx_images(int64_t n, int64_t rows, int64_t cols) {
  std::vector<uint8_t> v;
  put_u32(v, 0x00000803);
  put_u32(v, uint32_t(n));
  put_u32(v, uint32_t(rows));
  put_u32(v, uint32_t(cols));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < cols; ++x) v.push_back(idx_pixel(i, y, x));
  return v;
}
inline std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> v;
  put_u32(v, 0x00000801);
  put_u32(v, uint32_t(labels.size()));
  v.insert(v.end(), labels.begin(), labels.end());
  return v;
}

// A deterministic test picture: pixel (y, x, c) = (seed * 7 + y * 13 + x * 3 + c * 50) mod 256.
inline Image pattern_image(int64_t h, int64_t w, int64_t c, int64_t seed) {
  Image img{h, w, c, {}};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k)
        img.pixels.push_back(static_cast<uint8_t>((seed * 7 + y * 13 + x * 3 + k * 50) % 256));
  return img;
}

// A smooth picture (JPEG-friendly): a horizontal ramp per channel.
inline Image smooth_image(int64_t h, int64_t w, int64_t c) {
  Image img{h, w, c, {}};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k)
        img.pixels.push_back(static_cast<uint8_t>(40 + x * 4 + k * 30));
  return img;
}

// A miniature CORe50 under root: core50_128x128/s{S}/o{O}/C_{SS}_{OO}_{FFF}.png (16x16 instead
// of 128x128) and batches_filelists/NICv2_391/run0 with 3 training batches and a test list.
//   batch 0: objects 0..3 (session 1), 2 frames each = 8 images
//   batch 1: object 7, session 2, 3 frames;  batch 2: object 12, session 4, 3 frames
//   test:    objects 0, 7, 12 of session 3, 2 frames each
struct MiniCore50 {
  struct Entry { int session, object, frame; };
  std::vector<std::vector<Entry>> train_batches;
  std::vector<Entry> test;
  static std::string rel(const Entry& e) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "s%d/o%d/C_%02d_%02d_%03d.png", e.session, e.object + 1,
                  e.session, e.object + 1, e.frame);
    return buf;
  }
};

inline MiniCore50 write_mini_core50(const fs::path& root) {
  MiniCore50 m;
  std::vector<MiniCore50::Entry> b0;
  for (int o = 0; o < 4; ++o)
    for (int f = 0; f < 2; ++f) b0.push_back({1, o, f});
  m.train_batches.push_back(b0);
  m.train_batches.push_back({{2, 7, 0}, {2, 7, 1}, {2, 7, 2}});
  m.train_batches.push_back({{4, 12, 0}, {4, 12, 1}, {4, 12, 2}});
  for (int o : {0, 7, 12})
    for (int f = 0; f < 2; ++f) m.test.push_back({3, o, f});

  const fs::path images = root / "core50_128x128";
  const fs::path lists = root / "batches_filelists" / "NICv2_391" / "run0";
  fs::create_directories(lists);
  auto emit = [&](const std::vector<MiniCore50::Entry>& entries, const fs::path& list) {
    std::ofstream out(list);
    for (const auto& e : entries) {
      const fs::path p = images / MiniCore50::rel(e);
      fs::create_directories(p.parent_path());
      write_png(p, pattern_image(16, 16, 3, e.session * 100 + e.object * 3 + e.frame));
      out << MiniCore50::rel(e) << " " << e.object << "\n";
    }
  };
  for (size_t b = 0; b < m.train_batches.size(); ++b) {
    char name[64];
    std::snprintf(name, sizeof name, "train_batch_%02zu_filelist.txt", b);
    emit(m.train_batches[b], lists / name);
  }
  emit(m.test, lists / "test_filelist.txt");
  return m;
}

}  // namespace ar1::data::testing

#include <memory>

#include "data/dataset.h"

namespace ar1::data::testing {

// An in-memory dataset of 2x2 grey images: counts[c] images of class c, classes interleaved
// (item i has class i mod C while that class has images left). Pixel values encode the index.
inline std::shared_ptr<const InMemoryDataset> labelled_dataset(const std::vector<int64_t>& counts) {
  std::vector<int64_t> left = counts, targets;
  bool any = true;
  while (any) {
    any = false;
    for (size_t c = 0; c < left.size(); ++c)
      if (left[c] > 0) {
        --left[c];
        targets.push_back(static_cast<int64_t>(c));
        any = true;
      }
  }
  std::vector<uint8_t> pixels;
  for (size_t i = 0; i < targets.size(); ++i)
    for (int k = 0; k < 4; ++k) pixels.push_back(static_cast<uint8_t>((i * 4 + k) % 251));
  return std::make_shared<const InMemoryDataset>(std::move(pixels), 2, 2, 1, std::move(targets),
                                                 static_cast<int64_t>(counts.size()), "synthetic");
}

}  // namespace ar1::data::testing
