// OpenSSL objects held by std::unique_ptr, each freed by its own free function:
//   OsslPtr<BIO, BIO_free> bio(BIO_new_mem_buf(...));
// (BN_clear_free for a BIGNUM that held a secret.)
#pragma once

#include <memory>

namespace drover {

template <auto Free>
struct OsslFree {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

template <typename T, auto Free>
using OsslPtr = std::unique_ptr<T, OsslFree<Free>>;

}  // namespace drover
