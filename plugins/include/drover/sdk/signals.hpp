// Signal names as users write them in jobs ("SIGTERM", "TERM", "sigint", "15", "SIGRTMIN+1")
// to numbers, header-only so that the agent's job validation and every driver (in-tree or not)
// share one parser: what a job is accepted with is what its driver can send.
#pragma once

#include <cctype>
#include <csignal>
#include <optional>
#include <string>
#include <string_view>

namespace drover::sdk {
namespace detail {

struct Named {
  const char* name;
  int number;
};

inline constexpr Named kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},   {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

}  // namespace detail

inline std::optional<int> signal_number(std::string_view name) {
  if (name.empty() || name.size() > 16) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) {
    int n = 0;
    for (char c : name) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n >= NSIG) return std::nullopt;
    return n;
  }
  std::string upper;
  for (char c : name)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  std::string_view bare = upper;
  if (bare.substr(0, 3) == "SIG") bare.remove_prefix(3);
  for (const auto& s : detail::kSignals) {
    if (bare == s.name) return s.number;
  }
  // Real-time signals: RTMIN, RTMIN+n, RTMAX, RTMAX-n (the kernel's numbering, as kill(1)).
  auto offset = [](std::string_view digits) -> std::optional<int> {
    if (digits.empty() || digits.size() > 2) return std::nullopt;
    int n = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  std::optional<int> number;
  if (bare == "RTMIN") number = SIGRTMIN;
  else if (bare == "RTMAX") number = SIGRTMAX;
  else if (bare.substr(0, 6) == "RTMIN+") {
    if (auto n = offset(bare.substr(6))) number = SIGRTMIN + *n;
  } else if (bare.substr(0, 6) == "RTMAX-") {
    if (auto n = offset(bare.substr(6))) number = SIGRTMAX - *n;
  }
  if (number && *number >= SIGRTMIN && *number <= SIGRTMAX) return number;
  return std::nullopt;
}

}  // namespace drover::sdk
