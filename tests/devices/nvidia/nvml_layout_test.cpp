// The NVML structs that drover declares itself (devices/nvidia/nvml_api.h) against the
// sizes and offsets of NVIDIA's nvml.h on x86-64 and aarch64 Linux. A real driver writes
// into these structs: a wrong layout would corrupt memory on a GPU node, and the fake NVML
// (built from the same header) could never notice, so the numbers are pinned here.
#include <gtest/gtest.h>

#include <cstddef>

#include "nvml_api.h"

static_assert(sizeof(nvmlMemory_t) == 24);
static_assert(offsetof(nvmlMemory_t, used) == 16);
static_assert(sizeof(nvmlBAR1Memory_t) == 24);
static_assert(sizeof(nvmlUtilization_t) == 8);
static_assert(sizeof(nvmlPciInfo_t) == 68);
static_assert(offsetof(nvmlPciInfo_t, domain) == 16);
static_assert(offsetof(nvmlPciInfo_t, pciSubSystemId) == 32);
static_assert(offsetof(nvmlPciInfo_t, busId) == 36);
static_assert(sizeof(nvmlEventData_t) == 32);
static_assert(offsetof(nvmlEventData_t, eventData) == 16);
static_assert(offsetof(nvmlEventData_t, gpuInstanceId) == 24);
static_assert(offsetof(nvmlEventData_t, computeInstanceId) == 28);
static_assert(sizeof(nvmlReturn_t) == 4 && sizeof(nvmlEnableState_t) == 4);

TEST(NvmlLayout, ConstantsMatchNvmlHeader) {
  EXPECT_EQ(NVML_ERROR_TIMEOUT, 10);
  EXPECT_EQ(NVML_ERROR_NOT_FOUND, 6);
  EXPECT_EQ(NVML_ERROR_UNKNOWN, 999);
  EXPECT_EQ(nvmlEventTypeXidCriticalError, 0x8LL);
  EXPECT_EQ(NVML_CLOCK_SM, 1);
  EXPECT_EQ(NVML_CLOCK_MEM, 2);
  EXPECT_EQ(NVML_DEVICE_MIG_ENABLE, 1);
  EXPECT_EQ(NVML_MEMORY_ERROR_TYPE_UNCORRECTED, 1);
  EXPECT_EQ(NVML_VOLATILE_ECC, 0);
}
