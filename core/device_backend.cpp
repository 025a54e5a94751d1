#include "core/device_backend.h"

#include <atomic>

#include "core/cpu_allocator.h"
#include "core/error.h"

namespace ar1 {

namespace {
std::atomic<DeviceBackend*> cuda_backend{nullptr};
}  // namespace

void register_device_backend(DeviceType type, DeviceBackend* backend) {
  AR1_CHECK(type == DeviceType::cuda, "[device] only a cuda backend can be registered; the "
            "cpu is built into core");
  cuda_backend.store(backend);
}

DeviceBackend& device_backend(Device device) {
  AR1_CHECK(device.is_cuda(), "[device] the cpu has no registered backend; core runs it");
  DeviceBackend* b = cuda_backend.load();
  AR1_CHECK(b != nullptr, "[device] ", device.str(), " needs the kernels library, which "
            "registers the CUDA backend: link ar1_kernels (or ar1_nn) into this program");
  return *b;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return CpuAllocator::instance();
  return device_backend(device).allocator(device);
}

}  // namespace ar1
