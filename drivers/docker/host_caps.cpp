// host_caps (see host_caps.hpp): /proc/self/status CapBnd against /proc/sys/kernel/cap_last_cap.
#include "host_caps.hpp"

#include <fstream>

namespace drover::docker {

std::vector<std::string> caps_missing_from_bounding_set() {
  static const char* const names[] = {"CHOWN",
                                      "DAC_OVERRIDE",
                                      "DAC_READ_SEARCH",
                                      "FOWNER",
                                      "FSETID",
                                      "KILL",
                                      "SETGID",
                                      "SETUID",
                                      "SETPCAP",
                                      "LINUX_IMMUTABLE",
                                      "NET_BIND_SERVICE",
                                      "NET_BROADCAST",
                                      "NET_ADMIN",
                                      "NET_RAW",
                                      "IPC_LOCK",
                                      "IPC_OWNER",
                                      "SYS_MODULE",
                                      "SYS_RAWIO",
                                      "SYS_CHROOT",
                                      "SYS_PTRACE",
                                      "SYS_PACCT",
                                      "SYS_ADMIN",
                                      "SYS_BOOT",
                                      "SYS_NICE",
                                      "SYS_RESOURCE",
                                      "SYS_TIME",
                                      "SYS_TTY_CONFIG",
                                      "MKNOD",
                                      "LEASE",
                                      "AUDIT_WRITE",
                                      "AUDIT_CONTROL",
                                      "SETFCAP",
                                      "MAC_OVERRIDE",
                                      "MAC_ADMIN",
                                      "SYSLOG",
                                      "WAKE_ALARM",
                                      "BLOCK_SUSPEND",
                                      "AUDIT_READ",
                                      "PERFMON",
                                      "BPF",
                                      "CHECKPOINT_RESTORE"};
  int last = -1;
  std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;
  std::ifstream status("/proc/self/status");
  bool found = false;
  unsigned long long bounding = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapBnd:", 0) != 0) continue;
    try {
      bounding = std::stoull(line.substr(7), nullptr, 16);
      found = true;
    } catch (...) {
    }
  }
  std::vector<std::string> missing;
  if (!found) return missing;
  for (int cap = 0; cap <= last && cap < 64; ++cap) {
    if (bounding >> cap & 1) continue;
    missing.push_back(cap < static_cast<int>(std::size(names)) ? std::string("CAP_") + names[cap]
                                                               : "CAP_" + std::to_string(cap));
  }
  return missing;
}

}  // namespace drover::docker
