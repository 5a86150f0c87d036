// The Prometheus exposition the agent's and the server's /v1/metrics write (text format
// 0.0.4, with prometheus-cpp's core library). Included only by the metrics .cpp files: the
// prometheus headers are heavy.
#pragma once

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "api/json_reply.hpp"

namespace drover::api {

// The exposition is built afresh for each scrape: one Registry, one family per metric, its
// samples set from the process's state, then TextSerializer writes it (escaping included).
class Metrics {
 public:
  prometheus::Family<prometheus::Gauge>& gauge(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry_);
  }
  prometheus::Family<prometheus::Counter>& counter(const std::string& name,
                                                   const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry_);
  }
  // A counter's value read from elsewhere (the kernel, the state store): a fresh counter
  // incremented once by it.
  static void set(prometheus::Family<prometheus::Counter>& f, const prometheus::Labels& labels,
                  double value) {
    f.Add(labels).Increment(value);
  }
  static void set(prometheus::Family<prometheus::Gauge>& f, const prometheus::Labels& labels,
                  double value) {
    f.Add(labels).Set(value);
  }
  std::string text() const { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

 private:
  prometheus::Registry registry_;
};

// ?format= other than prometheus: a 400 sent, true.
inline bool refuse_metrics_format(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_param("format") || req.get_param_value("format") == "prometheus") return false;
  reply_error(res, 400, "only format=prometheus is served");
  return true;
}

inline void reply_metrics(httplib::Response& res, const std::string& text) {
  res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace drover::api
