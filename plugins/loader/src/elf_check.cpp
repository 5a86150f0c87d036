// ELF sanity check before dlopen (see elf_check.hpp).
#include "elf_check.hpp"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace drover::plugins {
namespace {

#if defined(__x86_64__)
constexpr int kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int kMachine = EM_AARCH64;
#else
constexpr int kMachine = -1;  // unknown host: skip the machine check
#endif

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool read_at(int fd, void* buf, size_t n, uint64_t off) {
  auto got = pread(fd, buf, n, static_cast<off_t>(off));
  return got >= 0 && static_cast<size_t>(got) == n;
}

// a + b <= limit, without overflow.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

}  // namespace

std::optional<std::string> elf_problem(const std::filesystem::path& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::string("cannot open: ") + std::strerror(errno);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return std::string("cannot stat: ") + std::strerror(errno);
  const auto size = static_cast<uint64_t>(st.st_size);

  ElfW(Ehdr) eh{};
  if (size < sizeof(eh) || !read_at(fd.get(), &eh, sizeof(eh), 0)) {
    return std::string("not an ELF file (too short)");
  }
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return std::string("not an ELF file");
  if (eh.e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32)) {
    return std::string("ELF class does not match this agent (32/64-bit)");
  }
  if (eh.e_type != ET_DYN) return std::string("ELF file is not a shared object");
  if (kMachine >= 0 && eh.e_machine != kMachine) {
    return "ELF file is for another machine (e_machine " + std::to_string(eh.e_machine) + ")";
  }
  if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 ||
      !fits(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(ElfW(Phdr)), size)) {
    return std::string("corrupt ELF file: program headers outside the file");
  }
  std::vector<ElfW(Phdr)> ph(eh.e_phnum);
  if (!read_at(fd.get(), ph.data(), ph.size() * sizeof(ElfW(Phdr)), eh.e_phoff)) {
    return std::string("corrupt ELF file: cannot read program headers");
  }
  for (const auto& p : ph) {
    if (p.p_type == PT_NULL) continue;
    if (!fits(p.p_offset, p.p_filesz, size)) {
      return "corrupt or truncated ELF file: a segment ends at byte " +
             std::to_string(p.p_offset + p.p_filesz) + " of a " + std::to_string(size) +
             "-byte file";
    }
  }
  return std::nullopt;
}

}  // namespace drover::plugins
