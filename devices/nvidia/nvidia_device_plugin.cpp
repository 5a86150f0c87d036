// The nvidia device plugin: NVIDIA GPUs (and MIG slices) through NVML, loaded at run time.
// set_config reads the GPUs once; a refresher thread re-reads them every fingerprint_period
// and an XidWatcher marks instances unhealthy on critical XIDs. fingerprint, reserve and
// stats answer from the last inventory, so they never wait on a slow or absent driver.
#include <condition_variable>
#include <cstdio>
#include <drover/sdk/device.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "gpu_inventory.hpp"
#include "gpu_stats.hpp"
#include "nvml_library.hpp"
#include "plugin_config.hpp"
#include "reservation.hpp"
#include "xid_watcher.hpp"

namespace drover::devices::nvidia {
namespace {

using nlohmann::json;

class NvidiaDevicePlugin : public drover::sdk::DevicePlugin {
 public:
  ~NvidiaDevicePlugin() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
    xids_.reset();  // before NVML goes
    nvml_.reset();
  }

  void set_config(const json& config) override {
    config_ = parse_config(config);
    if (!config_.enabled) {
      std::lock_guard lock(mu_);
      status_ = "disabled by the plugin config (enabled = false)";
      return;
    }
    refresh();
    refresher_ = std::thread([this] { refresh_loop(); });
  }

  json fingerprint() override {
    std::lock_guard lock(mu_);
    json groups = device_groups(inventory_, unhealthy_);
    return {{"Detected", !groups.empty()}, {"HealthDescription", status_}, {"Devices", groups}};
  }

  json reserve(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    return make_reservation(inventory_.instances, ids);
  }

  json stats() override {
    std::vector<GpuInstance> instances;
    const NvmlLibrary* nvml = nullptr;
    {
      std::lock_guard lock(mu_);
      instances = inventory_.instances;
      nvml = nvml_.get();
    }
    // NVML is set once and lives until the destructor, after the agent's last call; its
    // calls are thread-safe, so they run outside the lock.
    if (nvml == nullptr) return {{"Timestamp", 0}, {"Instances", json::object()}};
    return read_stats(*nvml, instances);
  }

 private:
  // Logs a status line only when it changes, so that a node without GPUs says so once
  // rather than every period.
  void set_status(std::string status) {
    if (status != status_) std::fprintf(stderr, "nvidia device plugin: %s\n", status.c_str());
    status_ = std::move(status);
  }

  void refresh() {
    if (!nvml_) {
      std::string why;
      auto lib = NvmlLibrary::open(config_.nvml_path, why);
      if (!lib) {
        std::lock_guard lock(mu_);
        set_status(why + "; no NVIDIA GPUs offered");
        return;
      }
      std::lock_guard lock(mu_);  // stats() reads the pointer
      nvml_ = std::move(lib);
    }
    GpuInventory inv = read_inventory(*nvml_, config_.ignored_gpu_ids);
    const std::vector<nvmlDevice_t> gpus = inv.physical_gpus;
    {
      std::lock_guard lock(mu_);
      const std::size_t n = inv.instances.size();
      std::string what = std::to_string(n) + (n == 1 ? " instance" : " instances") + " on " +
                         std::to_string(inv.physical_gpus.size()) + " GPU(s)";
      if (!inv.driver_version.empty()) what += ", driver " + inv.driver_version;
      set_status(n == 0 ? "NVML found no NVIDIA GPUs to offer" : what);
      inventory_ = std::move(inv);
    }
    // Started only once the inventory is in place: an XID that arrives at once must find
    // the instances it hits.
    if (!xids_ && !gpus.empty()) {
      xids_ = std::make_unique<XidWatcher>(
          *nvml_, gpus, [this](const XidEvent& e) { on_xid(e); },
          [this](const std::string& why) {
            std::lock_guard lock(mu_);
            std::fprintf(stderr, "nvidia device plugin: %s\n", why.c_str());
          });
    }
  }

  void refresh_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, config_.fingerprint_period, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      refresh();
      lock.lock();
    }
  }

  // Marks what a critical XID hit: one MIG slice when NVML says which, else every instance
  // of that GPU. Unhealthy stays until the plugin restarts: a GPU that raised a critical
  // XID needs an operator (or a reset) before it can be trusted again.
  void on_xid(const XidEvent& e) {
    std::lock_guard lock(mu_);
    const std::string reason =
        "XID " + std::to_string(e.xid) + " (critical error on GPU " + inventory_.uuids[e.gpu] + ")";
    for (const auto& g : inventory_.instances) {
      if (g.parent != e.gpu) continue;
      const bool slice_known = g.mig && e.gpu_instance_id != NVML_INVALID_INSTANCE_ID;
      if (slice_known && (g.gpu_instance_id != e.gpu_instance_id ||
                          (e.compute_instance_id != NVML_INVALID_INSTANCE_ID &&
                           g.compute_instance_id != e.compute_instance_id))) {
        continue;
      }
      unhealthy_.emplace(g.id, reason);  // the first XID's reason is kept
    }
    std::fprintf(stderr, "nvidia device plugin: %s\n", reason.c_str());
  }

  PluginConfig config_;
  std::unique_ptr<NvmlLibrary> nvml_;
  std::unique_ptr<XidWatcher> xids_;

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string status_ = "not configured yet";
  GpuInventory inventory_;
  std::map<std::string, std::string> unhealthy_;  // instance ID -> reason

  std::thread refresher_;
};

}  // namespace
}  // namespace drover::devices::nvidia

DROVER_REGISTER_DEVICE(drover::devices::nvidia::NvidiaDevicePlugin, "nvidia", "0.1.0")
