// Refresh as a job through the API while the origin keeps serving: an open psql session on an
// existing clone, a clone created meanwhile, a failing dump, 409s, snapshot deletion and
// `refresh.keep`; `zdapd refresh` against the running daemon.
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;
namespace json = boost::json;

namespace {

json::object Parse(const std::string& body) {
  return json::parse(body).as_object();
}

std::vector<std::string> SnapshotIds(ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body) == 200);
  std::vector<std::string> ids;
  json::object list = Parse(body);
  for (const auto& s : list["snapshots"].as_array())
    ids.emplace_back(s.as_object().at("id").as_string());
  return ids;
}

// Polls the job (bounded) until it finishes; returns it and the phases seen while it ran.
json::object WaitForJob(ZdapdFixture& d, const std::string& id, std::set<std::string>* phases) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  for (;;) {
    std::string body;
    REQUIRE(d.Call("GET", "/v1/jobs/" + id, "", &body) == 200);
    json::object job = Parse(body);
    std::string state(job["state"].as_string());
    if (state == "done" || state == "failed") return job;
    REQUIRE((state == "queued" || state == "running"));
    if (state == "running") phases->insert(std::string(job["phase"].as_string()));
    INFO(d.LogText());
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// An API call as the host's administrator (the token zdapd serve writes to admin.token).
int AdminCall(ZdapdFixture& d, const std::string& method, const std::string& path,
              std::string* body) {
  std::string token;
  REQUIRE(Shell("cat " + d.data_dir() + "/admin.token", &token) == 0);
  while (!token.empty() && token.back() == '\n') token.pop_back();
  std::string resp = d.data_dir() + "/../admin-resp.json";
  std::string code;
  if (Shell("curl -s -m 300 -o " + resp + " -w '%{http_code}' -X " + method +
                " -H 'Authorization: Bearer " + token + "' " + d.Url() + path,
            &code) != 0) {
    return 0;
  }
  body->clear();
  Shell("cat " + resp, body);
  return std::atoi(code.c_str());
}

std::string VolumesLeft(const std::string& data_dir) {
  std::string names;
  for (const auto& e : std::filesystem::directory_iterator(data_dir + "/store/volumes"))
    names += e.path().filename().string() + " ";
  return names;
}

}  // namespace

TEST_CASE("a refresh job runs while clones are used and created; failures leave no trace") {
  TempDir dumps("zdap-refresh-dump");
  ::chmod(dumps.path().c_str(), 0755);
  std::string dump = dumps.path() + "/dump.sql";
  std::filesystem::copy_file(ChinookDir() + "/Chinook_PostgreSql.sql", dump);
  ZdapdFixture d("", "name: chinook\nengine: postgres\nsource:\n  dump: " + dump +
                         "\n  database: chinook\nrefresh: {keep: 1}\nclone:\n  ttl: 1h\n"
                         "credentials: {user: postgres, password: zdap}\n");
  std::string out;
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  d.Start();
  auto first = SnapshotIds(d);
  REQUIRE(first.size() == 1);

  std::string body;
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"held\"}", &body) == 201);
  int held_port = std::stoi(JsonField(body, "port"));
  std::string held_password = JsonField(body, "password");
  // An open session on the clone, fed a query before, during and after the refresh. A psql
  // that exits early must fail the checks below, not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  std::string session_out = dumps.path() + "/session.out";
  FILE* session =
      ::popen(("PGPASSWORD=" + held_password + " psql -X -q -t -A -h 127.0.0.1 -U postgres -p " +
               std::to_string(held_port) + " chinook >" + session_out + " 2>&1")
                  .c_str(),
              "w");
  REQUIRE(session != nullptr);
  auto query = [&] {
    std::fputs("select count(*) from invoice_line;\n", session);
    std::fflush(session);
  };
  query();

  CHECK(d.Call("POST", "/v1/resources/chinook/snapshots", "", &body) == 403);
  REQUIRE(AdminCall(d, "POST", "/v1/resources/chinook/snapshots", &body) == 202);
  json::object job = Parse(body);
  std::string job_id(job["id"].as_string());
  CHECK(job["resource"].as_string() == "chinook");
  // A second refresh of the same resource is refused, naming the running job.
  std::string conflict;
  CHECK(AdminCall(d, "POST", "/v1/resources/chinook/snapshots", &conflict) == 409);
  CHECK_THAT(conflict, Catch::Contains(job_id));
  // Clones are still made, from the previous snapshot, while the import runs.
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"during\"}", &body) == 201);
  CHECK(JsonField(body, "snapshot") == first[0]);
  std::string running;
  REQUIRE(d.Call("GET", "/v1/jobs/" + job_id, "", &running) == 200);
  query();

  std::set<std::string> phases;
  job = WaitForJob(d, job_id, &phases);
  INFO(json::serialize(job) << d.LogText());
  REQUIRE(job["state"].as_string() == "done");
  std::string second(job["snapshot"].as_string());
  CHECK(second != first[0]);
  CHECK(job["phase"].as_string() == "snapshot");
  for (const auto& p : phases)
    CHECK(std::set<std::string>{"import", "after", "stop", "snapshot"}.count(p));
  CHECK(job["bytes_total"].to_number<int64_t>() ==
        static_cast<int64_t>(std::filesystem::file_size(dump)));
  CHECK(job["bytes_done"].to_number<int64_t>() == job["bytes_total"].to_number<int64_t>());
  CHECK(job["elapsed_ms"].to_number<int64_t>() > 0);
  CHECK(d.Call("GET", "/v1/jobs", "", &body) == 200);
  CHECK_THAT(body, Catch::Contains(job_id));

  // The session never noticed.
  query();
  std::fputs("\\q\n", session);
  CHECK(::pclose(session) == 0);
  std::string session_text;
  Shell("cat " + session_out, &session_text);
  CHECK(session_text == "2240\n2240\n2240\n");

  // keep=1: the old snapshot stays while clones use it, and cannot be deleted.
  CHECK(SnapshotIds(d) == std::vector<std::string>{second, first[0]});
  CHECK(AdminCall(d, "DELETE", "/v1/resources/chinook/snapshots/" + first[0], &body) == 409);
  CHECK_THAT(body, Catch::Contains("2 clone(s)"));
  CHECK(d.Call("DELETE", "/v1/clones/held", "", &body) == 204);
  CHECK(SnapshotIds(d).size() == 2);
  // ... and goes with its last clone.
  CHECK(d.Call("DELETE", "/v1/clones/during", "", &body) == 204);
  CHECK(SnapshotIds(d) == std::vector<std::string>{second});
  CHECK(AdminCall(d, "DELETE", "/v1/resources/chinook/snapshots/" + first[0], &body) == 404);

  // A dump with a syntax error: the job fails with the dump's error line, the previous
  // snapshot stays and no import volume is left behind.
  std::ofstream(dump, std::ios::trunc) << "CREATE TABLE ok (x int);\nSELEC broken;\n";
  REQUIRE(AdminCall(d, "POST", "/v1/resources/chinook/snapshots", &body) == 202);
  std::string bad_id = JsonField(body, "id");
  json::object bad = WaitForJob(d, bad_id, &phases);
  INFO(json::serialize(bad));
  REQUIRE(bad["state"].as_string() == "failed");
  CHECK_THAT(std::string(bad["error"].as_string()), Catch::Contains("dump.sql:2"));
  CHECK_THAT(std::string(bad["error"].as_string()), Catch::Contains("SELEC"));
  CHECK(bad["snapshot"].is_null());
  CHECK_FALSE(bad["log_tail"].as_array().empty());
  CHECK(SnapshotIds(d) == std::vector<std::string>{second});
  CHECK(VolumesLeft(d.data_dir()).empty());

  // A snapshot no clone uses is deleted on request.
  CHECK(AdminCall(d, "DELETE", "/v1/resources/chinook/snapshots/" + second, &body) == 204);
  CHECK(SnapshotIds(d).empty());
  CHECK(d.Call("GET", "/v1/jobs/job-000000000000", "", &body) == 404);

  // `zdapd refresh` while the daemon serves: it asks the daemon, follows the job, and prints
  // the new snapshot's id last.
  std::filesystem::copy_file(ChinookDir() + "/Chinook_PostgreSql.sql", dump,
                             std::filesystem::copy_options::overwrite_existing);
  out.clear();
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  INFO(out);
  CHECK_THAT(out, Catch::Contains("started on the running zdapd"));
  CHECK_THAT(out, Catch::Contains("refresh chinook: snapshot"));
  std::string printed = out.substr(out.rfind('\n', out.size() - 2) + 1);
  while (!printed.empty() && printed.back() == '\n') printed.pop_back();
  CHECK(SnapshotIds(d) == std::vector<std::string>{printed});
  CHECK_THAT(d.LogText(), Catch::Contains("done: snapshot " + printed));
  // A failing one exits 1 with the job's error.
  out.clear();
  CHECK(d.Host("refresh nosuch", &out) == 1);
  CHECK_THAT(out, Catch::Contains("'nosuch' not found"));
}
