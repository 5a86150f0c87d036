// Signing in through an OIDC provider end to end (docs/security.md, "Logging in through an OIDC
// provider"): a provider of the tests' own (oidc_provider.py: discovery, an authorization
// endpoint that signs its user in at once, a token endpoint checking the client's secret, PKCE
// and one use per code, userinfo, a JWKS), the real agent's auth-url and complete-auth, and the
// real `drover login` waiting on its callback while the test plays the browser. Then what has
// broken OIDC logins elsewhere, refused: a redirect URI not allowed, a callback's state of
// another sign-in, an ID token of another nonce, audience or key, a code or a sign-in used
// twice, a person no rule binds; and on a cluster a sign-in begun on one server completed on
// the other.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <regex>

#include "agent_process.hpp"
#include "cluster_processes.hpp"
#include "login_support.hpp"

using drover::testing::AgentProcess;
using drover::testing::bootstrap_secret;
using drover::testing::call;
using drover::testing::cli_field;
using drover::testing::error_of;
using drover::testing::EtcdProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::run_shell;
using drover::testing::ServerProcess;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kClientId = "drover-ui";
constexpr const char* kClientSecret = "s3cret:with/odd+chars";

// oidc_provider.py on a free port, with RSA keys made by the openssl CLI.
class Provider {
 public:
  explicit Provider(const std::string& dir) : dir_(dir) {
    const std::string keys = "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + dir + "/idp.key 2>/dev/null && " +
                             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + dir + "/other.key 2>/dev/null";
    EXPECT_EQ(run_shell(keys).exit_code, 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port_file = dir + "/port", key = dir + "/idp.key", other = dir + "/other.key";
      ::execl("/usr/bin/python3", "python3", OIDC_PROVIDER, port_file.c_str(), key.c_str(), other.c_str(), kClientId,
              kClientSecret, nullptr);
      ::_exit(127);
    }
    EXPECT_TRUE(eventually([&] { return std::filesystem::exists(dir + "/port"); }, 20s)) << "the provider did not start";
    port_ = std::atoi(read_file(dir + "/port").c_str());
  }
  ~Provider() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The browser at `url` (the provider's authorization URL, with `extra` parameters): the
  // Location the provider sends it on to.
  std::string sign_in(const std::string& url, const std::string& extra = "") const {
    const std::string prefix = issuer();
    EXPECT_EQ(url.rfind(prefix + "/authorize?", 0), 0u) << url;
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get((url.substr(prefix.size()) + extra).c_str());
    EXPECT_TRUE(r && r->status == 302) << (r ? r->body : "no reply");
    return r ? r->get_header_value("Location") : "";
  }
  json exchanges() const {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/log");
    return r ? json::parse(r->body, nullptr, false) : json();
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string query_param(const std::string& url, const std::string& name) {
  std::smatch m;
  const std::regex re("[?&]" + name + "=([^&]*)");
  return std::regex_search(url, m, re) ? m[1].str() : "";
}

json method_config(const Provider& idp, const std::vector<std::string>& redirects) {
  return {{"OIDCDiscoveryURL", idp.issuer()},
          {"OIDCClientID", kClientId},
          {"OIDCClientSecret", kClientSecret},
          {"OIDCScopes", {"email", "groups"}},
          {"OIDCEnablePKCE", true},
          {"AllowedRedirectURIs", redirects},
          {"ClaimMappings", {{"email", "email"}}},
          {"ListClaimMappings", {{"groups", "groups"}}}};
}

const char* kReaders = R"(namespace "default" {
  policy = "read"
}
)";

}  // namespace

TEST(OidcLogin, APersonSignedInAtTheProviderGetsTheRoleTheirGroupsBind) {
  const std::string dir = make_temp_dir("drover-oidc-login");
  Provider idp(dir);
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  const std::string mgmt = bootstrap_secret(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  auto drover = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-token", mgmt});
    return agent->cli(args);
  };
  write_file(dir + "/readers.hcl", kReaders);
  ASSERT_EQ(drover({"acl", "policy", "apply", "readers", dir + "/readers.hcl"}).exit_code, 0);
  ASSERT_EQ(drover({"acl", "role", "create", "-name", "engineers", "-policy", "readers"}).exit_code, 0);
  const int callback_port = drover::testing::free_loopback_port();
  const std::string callback = "127.0.0.1:" + std::to_string(callback_port);
  write_file(dir + "/config.json", method_config(idp, {"http://" + callback + "/oidc/callback"}).dump());
  auto made = drover({"acl", "auth-method", "create", "-name", "sso", "-type", "OIDC", "-max-token-ttl", "8h",
                      "-token-name-format", "${auth_method_type}-${value.email}", "-default", "-config",
                      "@" + dir + "/config.json"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  // The secret is the method's own: shown redacted, and kept by an update that sends it back.
  EXPECT_EQ(cli_field(made.out, "OIDC Client Secret"), "redacted") << made.out;
  EXPECT_EQ(cli_field(made.out, "OIDC Enable PKCE"), "true") << made.out;
  auto shown = call(*agent, "GET", "/v1/acl/auth-method/sso", mgmt);
  ASSERT_TRUE(shown && shown->status == 200) << error_of(shown);
  EXPECT_EQ(json::parse(shown->body)["Config"]["OIDCClientSecret"], "redacted");
  EXPECT_EQ(shown->body.find(kClientSecret), std::string::npos);
  auto updated = drover({"acl", "auth-method", "update", "sso", "-max-token-ttl", "4h"});
  ASSERT_EQ(updated.exit_code, 0) << updated.out << updated.err;
  auto rule = drover({"acl", "binding-rule", "create", "-auth-method", "sso", "-bind-type", "role", "-bind-name",
                      "engineers", "-selector", "engineering in list.groups"});
  ASSERT_EQ(rule.exit_code, 0) << rule.out << rule.err;

  // `drover login` as a person runs it, the test playing the browser: it prints the provider's
  // URL and waits for the provider to send the browser back to its callback.
  const std::string out_file = dir + "/login.out";
  auto login = std::async(std::launch::async, [&] {
    return run_shell("DROVER_ADDR=" + agent->address() + " " DROVER_BIN " login -oidc-callback-addr " + callback +
                     " > " + out_file + " 2>&1");
  });
  std::string url;
  ASSERT_TRUE(eventually(
      [&] {
        std::smatch m;
        const std::string out = std::filesystem::exists(out_file) ? read_file(out_file) : "";
        static const std::regex re("\n    (http[^\n]+)\n");
        if (std::regex_search(out, m, re)) url = m[1].str();
        return !url.empty();
      },
      30s))
      << read_file(out_file);
  EXPECT_EQ(query_param(url, "client_id"), kClientId);
  EXPECT_EQ(query_param(url, "scope"), "openid%20email%20groups");
  EXPECT_EQ(query_param(url, "code_challenge_method"), "S256");
  EXPECT_FALSE(query_param(url, "nonce").empty());
  const std::string back = idp.sign_in(url);
  ASSERT_EQ(back.rfind("http://" + callback + "/oidc/callback?", 0), 0u) << back;
  httplib::Client browser("127.0.0.1", callback_port);
  auto page = browser.Get(back.substr(("http://" + callback).size()).c_str());
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("Signed in"), std::string::npos) << page->body;
  ASSERT_EQ(login.wait_for(60s), std::future_status::ready);
  const auto done = login.get();
  const std::string printed = read_file(out_file);
  ASSERT_EQ(done.exit_code, 0) << printed << agent->log();
  EXPECT_NE(printed.find("Successfully logged in via OIDC and sso"), std::string::npos) << printed;
  EXPECT_EQ(cli_field(printed, "Name"), "OIDC-alice@example.com") << printed;
  EXPECT_EQ(cli_field(printed, "Roles"), "engineers") << printed;
  // The client authenticated with its secret (Basic) and proved the PKCE verifier.
  const json seen = idp.exchanges();
  ASSERT_EQ(seen.size(), 1u) << seen.dump();
  EXPECT_EQ(seen[0], (json{{"basic", true}, {"code_verifier", true}}));

  // The token is a client token of the role: it reads jobs and makes no token.
  const std::string secret = cli_field(printed, "Secret ID");
  EXPECT_EQ(call(*agent, "GET", "/v1/jobs", secret)->status, 200);
  EXPECT_EQ(call(*agent, "GET", "/v1/acl/tokens", secret)->status, 403);
  auto self = call(*agent, "GET", "/v1/acl/token/self", secret);
  ASSERT_TRUE(self && self->status == 200);
  EXPECT_NE(json::parse(self->body).value("ExpirationTime", json()).dump(), "null") << self->body;
  std::filesystem::remove_all(dir);
}

TEST(OidcLogin, ForgedReplayedAndUnboundSignInsAreRefusedSayingWhy) {
  const std::string dir = make_temp_dir("drover-oidc-forged");
  Provider idp(dir);
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  const std::string mgmt = bootstrap_secret(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  const std::string redirect = agent->address() + "/ui/settings/tokens";
  auto put = call(*agent, "POST", "/v1/acl/policy/readers", mgmt, json{{"Rules", kReaders}}.dump());
  ASSERT_TRUE(put && put->status == 200) << error_of(put);
  auto method = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                     json{{"Name", "sso"}, {"Type", "OIDC"}, {"MaxTokenTTL", "1h"},
                          {"Config", method_config(idp, {redirect})}}.dump());
  ASSERT_TRUE(method && method->status == 200) << error_of(method);
  auto rule = call(*agent, "POST", "/v1/acl/binding-rule", mgmt,
                   json{{"AuthMethod", "sso"}, {"BindType", "policy"}, {"BindName", "readers"},
                        {"Selector", "engineering in list.groups"}}.dump());
  ASSERT_TRUE(rule && rule->status == 200) << error_of(rule);
  // An OIDC method missing its client is refused naming the field.
  auto no_client = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                        json{{"Name", "half"}, {"Type", "OIDC"}, {"MaxTokenTTL", "1h"},
                             {"Config", {{"OIDCDiscoveryURL", idp.issuer()}, {"AllowedRedirectURIs", {redirect}}}}}.dump());
  ASSERT_TRUE(no_client);
  EXPECT_EQ(no_client->status, 400);
  EXPECT_EQ(error_of(no_client).rfind("Config.OIDCClientID: required", 0), 0u) << error_of(no_client);

  int n = 0;
  // Begins a sign-in (no token needed); its AuthURL.
  auto begin = [&](const std::string& nonce, const std::string& to = "") {
    return call(*agent, "POST", "/v1/acl/oidc/auth-url", "",
                json{{"AuthMethodName", "sso"}, {"RedirectURI", to.empty() ? redirect : to}, {"ClientNonce", nonce}}.dump());
  };
  auto complete = [&](const std::string& nonce, const std::string& back, const std::string& state = "") {
    return call(*agent, "POST", "/v1/acl/oidc/complete-auth", "",
                json{{"AuthMethodName", "sso"}, {"ClientNonce", nonce}, {"RedirectURI", redirect},
                     {"Code", query_param(back, "code")},
                     {"State", state.empty() ? query_param(back, "state") : state}}.dump());
  };
  // One sign-in at the provider with `extra` parameters: the callback's URL.
  auto signed_in = [&](const std::string& nonce, const std::string& extra) {
    auto r = begin(nonce);
    EXPECT_TRUE(r && r->status == 200) << error_of(r);
    return r && r->status == 200 ? idp.sign_in(json::parse(r->body).value("AuthURL", ""), extra) : "";
  };
  auto refused = [&](const httplib::Result& r, int status, const std::string& says) {
    ++n;
    ASSERT_TRUE(r) << "case " << n;
    EXPECT_EQ(r->status, status) << "case " << n << ": " << r->body;
    EXPECT_NE(error_of(r).find(says), std::string::npos) << "case " << n << ": " << error_of(r);
  };

  refused(begin("nonce-redirect-1", "https://evil.example/steal"), 400, "RedirectURI: \"https://evil.example/steal\" is not one");
  refused(call(*agent, "POST", "/v1/acl/oidc/auth-url", "", json{{"AuthMethodName", "sso"}}.dump()), 400,
          "required: RedirectURI, ClientNonce");
  // The state the callback brings must be this sign-in's.
  std::string back = signed_in("nonce-state-1", "");
  refused(complete("nonce-state-1", back, "not-the-state"), 403, "State: not the one this sign-in was sent with");
  // A sign-in is completed once: the one refused above is gone, and so is one done twice.
  refused(complete("nonce-state-1", back), 400, "ClientNonce: no sign-in under way has it");
  back = signed_in("nonce-good-1", "");
  auto good = complete("nonce-good-1", back);
  ASSERT_TRUE(good && good->status == 200) << error_of(good) << agent->log();
  EXPECT_EQ(json::parse(good->body)["Policies"], json::array({"readers"}));
  EXPECT_EQ(json::parse(good->body)["Name"], "OIDC-sso");
  refused(complete("nonce-good-1", back), 400, "ClientNonce: no sign-in under way has it");
  // A used code brought to a new sign-in: the provider refuses it, and the answer says so.
  const std::string fresh = signed_in("nonce-reuse-1", "");
  refused(call(*agent, "POST", "/v1/acl/oidc/complete-auth", "",
               json{{"AuthMethodName", "sso"}, {"ClientNonce", "nonce-reuse-1"}, {"RedirectURI", redirect},
                    {"Code", query_param(back, "code")}, {"State", query_param(fresh, "state")}}
                   .dump()),
          403, "Code: POST " + idp.issuer() + "/token: HTTP 400: invalid_grant (unknown or used code)");
  // ID tokens the checks must refuse: another sign-in's nonce, another audience, another key.
  back = signed_in("nonce-replay-1", "&fake_nonce=nonce-of-someone-else");
  refused(complete("nonce-replay-1", back), 403, "its nonce is not this sign-in's");
  back = signed_in("nonce-aud-1", "&fake_aud=another-client");
  refused(complete("nonce-aud-1", back), 403, "aud");
  back = signed_in("nonce-key-1", "&sign_with=other");
  refused(complete("nonce-key-1", back), 403, "the signature is not by any of the auth method's keys");
  // bob is in no group a rule binds.
  back = signed_in("nonce-bob-1", "&login_hint=bob");
  refused(complete("nonce-bob-1", back), 403, "no binding rule of auth method \"sso\" matched");
  // A JWT method has no browser sign-in.
  auto jwt_method = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                         json{{"Name", "ci"}, {"Type", "JWT"}, {"MaxTokenTTL", "1h"},
                              {"Config", {{"JWKSURL", idp.issuer() + "/jwks"}}}}.dump());
  ASSERT_TRUE(jwt_method && jwt_method->status == 200) << error_of(jwt_method);
  refused(call(*agent, "POST", "/v1/acl/oidc/auth-url", "",
               json{{"AuthMethodName", "ci"}, {"RedirectURI", redirect}, {"ClientNonce", "nonce-jwt-1"}}.dump()),
          400, "\"ci\" is a JWT method");
  // Only the good sign-in made a token: the management one and its.
  auto tokens = call(*agent, "GET", "/v1/acl/tokens", mgmt);
  ASSERT_TRUE(tokens && tokens->status == 200);
  EXPECT_EQ(json::parse(tokens->body).size(), 2u) << tokens->body;
  std::filesystem::remove_all(dir);
}

// auth-url needs no token: a flood of sign-ins is capped at 1,000 under way (429, saying
// why), and the sign-ins already begun still complete.
TEST(OidcLogin, AFloodOfSignInsIsCappedAndTheOnesBegunStillComplete) {
  const std::string dir = make_temp_dir("drover-oidc-flood");
  Provider idp(dir);
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  const std::string mgmt = bootstrap_secret(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  const std::string redirect = agent->address() + "/ui/settings/tokens";
  auto method = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                     json{{"Name", "sso"}, {"Type", "OIDC"}, {"MaxTokenTTL", "1h"},
                          {"Config", method_config(idp, {redirect})}}.dump());
  ASSERT_TRUE(method && method->status == 200) << error_of(method);
  auto rule = call(*agent, "POST", "/v1/acl/binding-rule", mgmt,
                   json{{"AuthMethod", "sso"}, {"BindType", "management"}}.dump());
  ASSERT_TRUE(rule && rule->status == 200) << error_of(rule);
  auto begin = [&](int i) {
    return call(*agent, "POST", "/v1/acl/oidc/auth-url", "",
                json{{"AuthMethodName", "sso"}, {"RedirectURI", redirect}, {"ClientNonce", "flood-nonce-" + std::to_string(i)}}
                    .dump());
  };
  std::string first_url;
  for (int i = 0; i < 1000; ++i) {
    auto r = begin(i);
    ASSERT_TRUE(r && r->status == 200) << i << ": " << error_of(r);
    if (i == 0) first_url = json::parse(r->body).value("AuthURL", "");
  }
  auto over = begin(1000);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);
  EXPECT_NE(error_of(over).find("too many sign-ins under way (1000)"), std::string::npos) << error_of(over);
  // The same nonce asked again is the same sign-in, not a new one: it is still answered.
  auto again = begin(0);
  ASSERT_TRUE(again && again->status == 200) << error_of(again);
  EXPECT_EQ(json::parse(again->body).value("AuthURL", ""), first_url);
  const std::string back = idp.sign_in(first_url);
  auto done = call(*agent, "POST", "/v1/acl/oidc/complete-auth", "",
                   json{{"AuthMethodName", "sso"}, {"ClientNonce", "flood-nonce-0"}, {"RedirectURI", redirect},
                        {"Code", query_param(back, "code")}, {"State", query_param(back, "state")}}.dump());
  ASSERT_TRUE(done && done->status == 200) << error_of(done);
  EXPECT_EQ(json::parse(done->body).value("Type", ""), "management");
  std::filesystem::remove_all(dir);
}

TEST(OidcLogin, ASignInBegunOnOneServerCompletesOnTheOther) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  const std::string dir = make_temp_dir("drover-oidc-cluster");
  Provider idp(dir);
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto s1 = ServerProcess::start("s1", drover::testing::acl_server_yaml(etcd, dir, "s1"));
  auto s2 = ServerProcess::start("s2", drover::testing::acl_server_yaml(etcd, dir, "s2"));
  const std::string mgmt = drover::testing::bootstrap_token(dir, {"s1", "s2"});
  ASSERT_FALSE(mgmt.empty()) << s1->log() << s2->log();
  const std::string redirect = s1->address() + "/ui/settings/tokens";
  s1->use_token(mgmt);
  auto method = s1->post("/v1/acl/auth-method",
                         json{{"Name", "sso"}, {"Type", "OIDC"}, {"MaxTokenTTL", "1h"},
                              {"Config", method_config(idp, {redirect})}}.dump(),
                         "application/json");
  ASSERT_EQ(method.status, 200) << method.body;
  auto rule = s1->post("/v1/acl/binding-rule", json{{"AuthMethod", "sso"}, {"BindType", "management"}}.dump(),
                       "application/json");
  ASSERT_EQ(rule.status, 200) << rule.body;
  s1->use_token("");
  auto url = s1->post("/v1/acl/oidc/auth-url",
                      json{{"AuthMethodName", "sso"}, {"RedirectURI", redirect}, {"ClientNonce", "cluster-nonce-1"}}.dump(),
                      "application/json");
  ASSERT_EQ(url.status, 200) << url.body << s1->log();
  const std::string back = idp.sign_in(url.json().value("AuthURL", ""));
  auto done = s2->post("/v1/acl/oidc/complete-auth",
                       json{{"AuthMethodName", "sso"}, {"ClientNonce", "cluster-nonce-1"}, {"RedirectURI", redirect},
                            {"Code", query_param(back, "code")}, {"State", query_param(back, "state")}}.dump(),
                       "application/json");
  ASSERT_EQ(done.status, 200) << done.body << s2->log();
  EXPECT_EQ(done.json().value("Type", ""), "management");
  s1->use_token(done.json().value("SecretID", ""));
  EXPECT_EQ(s1->get("/v1/acl/tokens").status, 200);
  std::filesystem::remove_all(dir);
}
