// The CLI's OIDC sign-in; see oidc_login.hpp.
#include "cli/oidc_login.hpp"

#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "drover/common/encoding.hpp"
#include "proc/spawn.hpp"

extern char** environ;

namespace drover::cli {
namespace {

using nlohmann::json;

// As long as the agent keeps a sign-in under way (auth/oidc.hpp, kOidcRequestTtlNs).
constexpr auto kSignInTime = std::chrono::minutes(5);

struct Callback {
  std::string code, state, iss, error;
};

// What the browser is shown once it is back: no script, nothing of the request echoed.
const char* const kDonePage =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>drover: signed in</title></head>"
    "<body style=\"font-family: system-ui, sans-serif; margin: 4em\"><h2>Signed in</h2>"
    "<p>The drover CLI has what it needs: this window may be closed.</p></body></html>";
const char* const kFailedPage =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>drover: sign-in failed</title></head>"
    "<body style=\"font-family: system-ui, sans-serif; margin: 4em\"><h2>Sign-in failed</h2>"
    "<p>The provider sent an error back; the drover CLI says which.</p></body></html>";

// Opens `url` in the user's browser where there is a display to show one; false otherwise.
bool open_browser(const std::string& url) {
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return false;
  proc::SpawnRequest req;
  req.exe = "xdg-open";
  req.search_path = true;
  req.argv = {"xdg-open", url};
  for (char** e = environ; e && *e; ++e) req.env.emplace_back(*e);
  auto pid = proc::spawn(req);
  return pid && proc::wait_exit_code(pid.value()) == 0;
}

}  // namespace

Result<json> oidc_login(Context& ctx, const std::string& method, const std::string& callback_addr) {
  const auto colon = callback_addr.rfind(':');
  int port = 0;
  if (colon != std::string::npos) port = std::atoi(callback_addr.c_str() + colon + 1);
  if (colon == std::string::npos || port <= 0 || port > 65535)
    return make_error("-oidc-callback-addr: \"" + callback_addr + "\" is not HOST:PORT", Errc::Invalid);
  std::string host = callback_addr.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";

  std::mutex mu;
  std::condition_variable cv;
  std::optional<Callback> back;
  httplib::Server callback;
  callback.Get("/oidc/callback", [&](const httplib::Request& req, httplib::Response& res) {
    Callback c{req.get_param_value("code"), req.get_param_value("state"), req.get_param_value("iss"),
               req.get_param_value("error")};
    if (!c.error.empty() && req.has_param("error_description"))
      c.error += " (" + req.get_param_value("error_description") + ")";
    if (c.error.empty() && (c.code.empty() || c.state.empty())) c.error = "the callback brought no code or state";
    res.set_content(c.error.empty() ? kDonePage : kFailedPage, "text/html; charset=utf-8");
    std::lock_guard lock(mu);
    if (!back) back = std::move(c);
    cv.notify_all();
  });
  if (!callback.bind_to_port(host.c_str(), port))
    return make_error("-oidc-callback-addr: cannot listen on " + callback_addr + " (in use?)", Errc::Invalid);
  std::thread serving([&] { callback.listen_after_bind(); });
  struct Stop {
    httplib::Server& s;
    std::thread& t;
    ~Stop() {
      s.stop();
      t.join();
    }
  } stop{callback, serving};

  const std::string nonce = random_uuid() + random_uuid();
  const std::string redirect = "http://" + callback_addr + "/oidc/callback";
  json ask = {{"AuthMethodName", method}, {"RedirectURI", redirect}, {"ClientNonce", nonce}};
  auto url = ctx.api.post_json("/v1/acl/oidc/auth-url", ask.dump(), "application/json");
  if (!url) return url.error();
  const std::string auth_url = url->value("AuthURL", "");
  if (open_browser(auth_url))
    ctx.out << "Complete the login via your OIDC provider. Launching browser to:\n\n    " << auth_url << "\n\n";
  else
    ctx.out << "Complete the login via your OIDC provider: open this URL in a browser:\n\n    " << auth_url << "\n\n";
  ctx.out.flush();

  std::unique_lock lock(mu);
  if (!cv.wait_for(lock, kSignInTime, [&] { return back.has_value(); }))
    return make_error("no sign-in came back to " + redirect + " within 5 minutes");
  if (!back->error.empty()) return make_error("the provider sent back an error: " + back->error);
  json done = {{"AuthMethodName", method}, {"ClientNonce", nonce}, {"State", back->state},
               {"Code", back->code},       {"RedirectURI", redirect}, {"Iss", back->iss}};
  lock.unlock();
  return ctx.api.post_json("/v1/acl/oidc/complete-auth", done.dump(), "application/json");
}

}  // namespace drover::cli
