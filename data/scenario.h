#pragma once
// Continual-learning benchmarks: a train stream and a test stream of experiences. An
// experience is one step of the stream: its position, the images it holds (a Subset of the
// full dataset), their targets and the classes they cover.
//
// The generators (each in its own file) build a Benchmark from labelled datasets:
//   nc_scenario.h    class-incremental: each experience brings new classes
//   ni_scenario.h    instance-incremental: every experience covers all classes
//   nic_scenario.h   SPEC.md 3c: a 4-class first experience, then single-class chunks
//   core50.h         CORe50's own file lists (NI, NC, NIC, NICv2-79/196/391), any run
// Every generator is a pure function of its inputs and seed.
#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace ar1::data {

struct Experience {
  int64_t index = 0;  // position in its stream
  std::shared_ptr<const Subset> dataset;
  std::vector<int64_t> classes_in_this_experience;  // sorted, distinct

  const std::vector<int64_t>& targets() const { return dataset->targets(); }
  int64_t size() const { return dataset->size(); }
};

struct Benchmark {
  std::vector<Experience> train_stream;
  std::vector<Experience> test_stream;
  int64_t num_classes = 0;
  // The order in which classes were assigned to experiences (nc, nic); empty where the
  // generator does not order classes (ni, CORe50).
  std::vector<int64_t> class_order;
};

// An experience over `indices` of `parent` (indices are sorted first, so that the images of an
// experience are read in dataset order; the loader shuffles anyway).
Experience make_experience(int64_t index, DatasetPtr parent, std::vector<int64_t> indices);

}  // namespace ar1::data
