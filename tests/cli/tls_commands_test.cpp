// `drover tls ca|cert create|info` (cli/tls_commands.cpp): the files Nomad's `nomad tls` writes,
// under its names and modes, certificates that chain to their CA for the names a cluster
// uses, the CA's name constraint enforced, and every refusal before a file is written.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/tls_certs.hpp"

namespace {

namespace fs = std::filesystem;
using drover::cli::read_cert_info;
using drover::cli::verify_cert;

struct CliRun {
  int code;
  std::string out, err;
};

// Runs the CLI in a fresh temp dir (the commands write to the current directory).
class TlsCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/drover-tls-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
    old_ = fs::current_path();
    fs::current_path(dir_);
  }
  void TearDown() override {
    fs::current_path(old_);
    fs::remove_all(dir_);
  }
  CliRun run(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int code = drover::cli::run_cli(args, out, err);
    return {code, out.str(), err.str()};
  }
  static std::string read(const std::string& f) {
    std::ifstream in(f);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static unsigned mode(const std::string& f) {
    struct stat st {};
    ::stat(f.c_str(), &st);
    return st.st_mode & 0777;
  }
  std::string dir_;
  fs::path old_;
};

TEST_F(TlsCommands, ACaAndServerClientAndCliCertificatesUnderNomadsNamesChainForTheirNames) {
  auto ca = run({"tls", "ca", "create"});
  ASSERT_EQ(ca.code, 0) << ca.err;
  EXPECT_NE(ca.out.find("CA certificate saved to: nomad-agent-ca.pem"), std::string::npos) << ca.out;
  EXPECT_EQ(mode("nomad-agent-ca.pem"), 0644u);
  EXPECT_EQ(mode("nomad-agent-ca-key.pem"), 0600u) << "the CA key must be the owner's alone";
  EXPECT_NE(read("nomad-agent-ca-key.pem").find("BEGIN EC PRIVATE KEY"), std::string::npos);
  auto ca_info = read_cert_info(read("nomad-agent-ca.pem"));
  ASSERT_TRUE(ca_info) << ca_info.message();
  EXPECT_TRUE(ca_info->is_ca);
  EXPECT_EQ(ca_info->issuer_cn, "Nomad Agent CA " + ca_info->serial);
  EXPECT_NE(ca_info->subject.find("O=HashiCorp Inc."), std::string::npos) << ca_info->subject;
  // Five years, Nomad's default.
  EXPECT_NEAR(ca_info->not_after - ca_info->not_before, 1825LL * 86400, 5);
  EXPECT_TRUE(ca_info->permitted_dns_domains.empty());

  auto server = run({"tls", "cert", "create", "-server", "-additional-ipaddress", "10.1.2.3",
                     "-additional-dnsname", "node1.example.com"});
  ASSERT_EQ(server.code, 0) << server.err;
  EXPECT_NE(server.err.find("WARNING"), std::string::npos) << "a server certificate is a server's power";
  EXPECT_EQ(mode("global-server-nomad-key.pem"), 0600u);
  const std::string ca_pem = read("nomad-agent-ca.pem"), server_pem = read("global-server-nomad.pem");
  auto s = read_cert_info(server_pem);
  ASSERT_TRUE(s) << s.message();
  EXPECT_FALSE(s->is_ca);
  EXPECT_EQ(s->subject, "CN=server.global.nomad");
  EXPECT_EQ(s->issuer_cn, ca_info->issuer_cn);
  EXPECT_EQ(s->dns_names, (std::vector<std::string>{"node1.example.com", "server.global.nomad", "localhost"}));
  EXPECT_EQ(s->ip_addresses, (std::vector<std::string>{"10.1.2.3", "127.0.0.1"}));
  EXPECT_NEAR(s->not_after - s->not_before, 365LL * 86400, 5);
  for (const char* name : {"server.global.nomad", "localhost", "127.0.0.1", "10.1.2.3", "node1.example.com"})
    EXPECT_TRUE(verify_cert(ca_pem, server_pem, name)) << name;
  EXPECT_FALSE(verify_cert(ca_pem, server_pem, "client.global.nomad"));
  EXPECT_FALSE(verify_cert(ca_pem, server_pem, "10.9.9.9"));

  ASSERT_EQ(run({"tls", "cert", "create", "-client", "-region", "eu"}).code, 0);
  auto client = read_cert_info(read("eu-client-nomad.pem"));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->subject, "CN=client.eu.nomad");
  ASSERT_EQ(run({"tls", "cert", "create", "-cli", "-days", "30"}).code, 0);
  auto cli = read_cert_info(read("global-cli-nomad.pem"));
  ASSERT_TRUE(cli);
  EXPECT_EQ(cli->dns_names, (std::vector<std::string>{"cli.global.nomad", "localhost"}));
  EXPECT_TRUE(cli->ip_addresses.empty()) << "the CLI is no server: no 127.0.0.1";
  EXPECT_NEAR(cli->not_after - cli->not_before, 30LL * 86400, 5);

  // A certificate of another CA does not chain to this one.
  fs::create_directory("other");
  fs::current_path("other");
  ASSERT_EQ(run({"tls", "ca", "create"}).code, 0);
  ASSERT_EQ(run({"tls", "cert", "create", "-server"}).code, 0);
  EXPECT_FALSE(verify_cert(ca_pem, read("global-server-nomad.pem"), "server.global.nomad"));
  fs::current_path("..");

  auto shown = run({"tls", "cert", "info", "global-server-nomad.pem"});
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_NE(shown.out.find("server.global.nomad"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("10.1.2.3, 127.0.0.1"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find(s->serial), std::string::npos) << shown.out;
  auto shown_ca = run({"tls", "ca", "info", "nomad-agent-ca.pem"});
  ASSERT_EQ(shown_ca.code, 0) << shown_ca.err;
  EXPECT_NE(shown_ca.out.find("Nomad Agent CA"), std::string::npos) << shown_ca.out;
}

TEST_F(TlsCommands, ANameConstrainedCaSignsOnlyItsDomainsNames) {
  ASSERT_EQ(run({"tls", "ca", "create", "-domain", "corp", "-name-constraint", "-additional-domain",
                 "example.org"}).code, 0);
  auto ca = read_cert_info(read("corp-agent-ca.pem"));
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->permitted_dns_domains,
            (std::vector<std::string>{"corp", "localhost", "nomad", "example.org"}));
  auto ok = run({"tls", "cert", "create", "-server", "-domain", "corp", "-additional-dnsname", "api.example.org"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(fs::exists("global-server-corp.pem"));
  // A name outside the permitted domains: the certificate does not verify, so none is kept.
  auto bad = run({"tls", "cert", "create", "-client", "-domain", "corp", "-additional-dnsname", "evil.com"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("does not verify"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists("global-client-corp.pem"));
  EXPECT_FALSE(fs::exists("global-client-corp-key.pem"));
}

TEST_F(TlsCommands, RefusalsNameTheFlagAndWriteNothing) {
  auto expect_refused = [&](const std::vector<std::string>& args, const std::string& says) {
    auto r = run(args);
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.err.find(says), std::string::npos) << "want \"" << says << "\" in: " << r.err;
  };
  expect_refused({"tls", "cert", "create", "-server"}, "cannot read the CA certificate nomad-agent-ca.pem");
  expect_refused({"tls", "ca", "create", "-domain", "corp"}, "needs -name-constraint");
  expect_refused({"tls", "ca", "create", "-name-constraint"}, "give the cluster's -domain");
  expect_refused({"tls", "ca", "create", "-additional-domain", "x.org"}, "only with -name-constraint");
  expect_refused({"tls", "ca", "create", "-common-name", "Mine"}, "country: required");
  expect_refused({"tls", "ca", "create", "-days", "0"}, "days: must be 1 or more");
  EXPECT_TRUE(fs::is_empty(".")) << "a refused command wrote a file";

  ASSERT_EQ(run({"tls", "ca", "create"}).code, 0);
  const std::string ca = read("nomad-agent-ca.pem");
  expect_refused({"tls", "ca", "create"}, "\"nomad-agent-ca.pem\" already exists");
  EXPECT_EQ(read("nomad-agent-ca.pem"), ca) << "the CA was overwritten";
  expect_refused({"tls", "cert", "create"}, "give one of -server, -client or -cli");
  expect_refused({"tls", "cert", "create", "-server", "-cli"}, "give one of -server, -client or -cli");
  expect_refused({"tls", "cert", "create", "-client", "-additional-ipaddress", "10.0.0.300"},
                 "additional-ipaddress: \"10.0.0.300\" is not an IP address");
  expect_refused({"tls", "cert", "create", "-client", "-additional-dnsname", "a,IP:1.2.3.4"},
                 "additional-dnsname: \"a,IP:1.2.3.4\" is not a DNS name");
  // The wrong key for the CA.
  ASSERT_EQ(run({"tls", "cert", "create", "-cli"}).code, 0);
  expect_refused({"tls", "cert", "create", "-client", "-key", "global-cli-nomad-key.pem"},
                 "the CA key is not the CA certificate's key");
  expect_refused({"tls", "cert", "create", "-cli"}, "\"global-cli-nomad.pem\" already exists");
  EXPECT_FALSE(fs::exists("global-client-nomad.pem"));
  expect_refused({"tls", "cert", "info", "nomad-agent-ca-key.pem"}, "no PEM certificate");
}

}  // namespace
