// The docker runtime: each server runs in its own container, created through the Docker
// Engine API from the resource's `docker.image` with the engine's command line.
//
// - The data dir and the run dir (socket, pid file) are bind-mounted at the same paths, so the
//   engine's command line, its probes over the run dir's unix socket and the import clients
//   work exactly as with the process runtime.
// - Network mode is host: the server listens on clone_bind:port itself, the port allocator's
//   hold on the port stays meaningful, and it works on Docker hosts without bridge networking.
// - The server runs as the host's server user (numeric uid:gid), so the files it writes belong
//   to the same user whichever runtime serves the clone. Images do not have that user: the
//   host's /etc/passwd and /etc/group are bind-mounted read-only so that getpwuid() finds it
//   (postgres refuses to start without a passwd entry). This is the pattern the official
//   postgres image documents for running as an arbitrary user.
// - Images are never pulled: a missing image is an error that names it.
// - Labels zdap.origin (the daemon's data dir), zdap.resource, zdap.clone and zdap.owner let a
//   restarted daemon find its containers; daemons sharing a Docker host see only their own.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <thread>

#include "core/log.h"
#include "runtime/docker_client.h"
#include "runtime/runtime.h"

namespace zdap::runtime {
namespace {

namespace json = boost::json;

constexpr auto kApiTimeout = std::chrono::seconds(60);

// Container ids come from records on disk: keep them to what Docker issues, so that a damaged
// record cannot steer a request to another endpoint.
Status CheckContainerId(const std::string& id) {
  if (id.empty() || id.size() > 128) return InvalidArgument("bad container id");
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      return InvalidArgument(fmt::format("bad container id '{}'", id));
    }
  }
  return Status::Ok();
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// "256MB", "1g", "512k", "1048576" -> bytes (binary units).
Result<int64_t> ParseShmSize(const config::Resource& resource) {
  const std::string& text = resource.docker_shm;
  auto bad = [&]() {
    return InvalidArgument(fmt::format("resource '{}': docker.shm '{}' is not a size such as 256MB",
                                       resource.name, text));
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return bad();
  int64_t n = std::stoll(text.substr(0, digits));
  std::string unit;
  for (char c : text.substr(digits)) unit += static_cast<char>(std::tolower(c));
  int64_t mult = 1;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mult = int64_t{1} << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mult = int64_t{1} << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mult = int64_t{1} << 30;
  } else {
    return bad();
  }
  if (n > (int64_t{1} << 50) / mult) return bad();
  return n * mult;
}

class DockerRuntime : public Runtime {
 public:
  explicit DockerRuntime(DockerRuntimeOptions options)
      : options_(std::move(options)), client_(options_.socket) {}
  const char* name() const override { return "docker"; }

  Result<ServerHandle> Start(const engine::ServerSpec& spec, const StartOptions& where) override {
    if (where.resource == nullptr) return InvalidArgument("docker runtime: no resource given");
    const config::Resource& res = *where.resource;
    if (res.docker_image.empty()) {
      return InvalidArgument(fmt::format(
          "resource '{}' has no docker.image: the docker runtime needs one (docker: {{image: "
          "...}})",
          res.name));
    }
    json::object body;
    body["Image"] = res.docker_image;
    json::array cmd;
    for (const auto& a : spec.argv) cmd.emplace_back(a);
    body["Cmd"] = std::move(cmd);
    json::array env;
    for (const auto& e : spec.env) env.emplace_back(e);
    for (const auto& e : res.docker_env) env.emplace_back(e);
    body["Env"] = std::move(env);
    uid_t uid = options_.run_as ? options_.run_as->uid : ::geteuid();
    gid_t gid = options_.run_as ? options_.run_as->gid : ::getegid();
    body["User"] = fmt::format("{}:{}", uid, gid);
    body["WorkingDir"] = spec.data_dir;
    body["StopSignal"] = std::to_string(spec.stop_signal > 0 ? spec.stop_signal : SIGTERM);
    body["Labels"] = json::object{{"zdap.origin", options_.origin},
                                  {"zdap.resource", res.name},
                                  {"zdap.clone", where.clone},
                                  {"zdap.owner", where.owner}};
    json::object host;
    host["Binds"] =
        json::array{spec.data_dir + ":" + spec.data_dir, where.run_dir + ":" + where.run_dir,
                    "/etc/passwd:/etc/passwd:ro", "/etc/group:/etc/group:ro"};
    host["NetworkMode"] = "host";
    if (!res.docker_shm.empty()) {
      ZDAP_ASSIGN_OR_RETURN(int64_t shm, ParseShmSize(res));
      host["ShmSize"] = shm;
    }
    body["HostConfig"] = std::move(host);

    ZDAP_ASSIGN_OR_RETURN(auto created, client_.Request("POST", "/containers/create",
                                                        json::serialize(body), kApiTimeout));
    if (created.status == 404) {
      return Unprocessable(
          fmt::format("image {} is not present on this host; build or pull it first (zdap never "
                      "pulls images itself)",
                      res.docker_image));
    }
    if (created.status != 201) {
      return Unavailable(fmt::format("docker: creating a container from {} failed: {}",
                                     res.docker_image, DockerErrorMessage(created)));
    }
    ServerHandle h;
    json::error_code ec;
    auto v = json::parse(created.body, ec);
    if (!ec && v.is_object()) {
      if (auto* id = v.as_object().if_contains("Id"); id != nullptr && id->is_string()) {
        h.container_id = std::string(id->as_string());
      }
    }
    if (!CheckContainerId(h.container_id).ok()) {
      return Unavailable(
          fmt::format("docker: create returned no container id: {}", created.body.substr(0, 200)));
    }
    auto started =
        client_.Request("POST", "/containers/" + h.container_id + "/start", "", kApiTimeout);
    if (!started.ok() || (started->status != 204 && started->status != 304)) {
      std::string why = started.ok() ? DockerErrorMessage(*started) : started.status().message();
      std::string tail = LogTail(h, spec, 12);
      (void)Remove(h.container_id);
      return Unavailable(fmt::format("docker: starting the container from {} failed: {}{}{}",
                                     res.docker_image, why, tail.empty() ? "" : "\n", tail));
    }
    log::Debug("docker runtime: started {} in container {}", spec.argv[0],
               h.container_id.substr(0, 12));
    return h;
  }

  bool IsRunning(const ServerHandle& handle) override {
    auto state = Inspect(handle);
    // The daemon not answering is not proof that the server is gone: the caller's deadline
    // decides.
    if (!state.ok()) return state.status().code() != Code::kNotFound;
    return state->running;
  }

  bool Owns(const ServerHandle& handle, const std::string& data_dir) override {
    auto state = Inspect(handle);
    return state.ok() && state->running && state->origin == options_.origin &&
           ArgvNamesDataDir(state->cmd, data_dir);
  }

  Status Stop(const ServerHandle& handle, const std::string& /*data_dir*/, int stop_signal,
              std::chrono::milliseconds grace) override {
    // Container ids are never reused, so unlike a pid the handle cannot name someone else's
    // server: no ownership check is needed.
    if (handle.container_id.empty()) return Status::Ok();
    ZDAP_RETURN_IF_ERROR(CheckContainerId(handle.container_id));
    const std::string base = "/containers/" + handle.container_id;
    if (stop_signal != SIGKILL) {
      auto killed = client_.Request("POST", fmt::format("{}/kill?signal={}", base, stop_signal), "",
                                    kApiTimeout);
      if (killed.ok() && killed->status == 204) {
        // Blocks until the container stops; the client's deadline is the grace period.
        auto waited = client_.Request("POST", base + "/wait?condition=not-running", "", grace);
        if (!waited.ok()) {
          log::Warn("docker runtime: container {} did not stop within {} ms; killing it",
                    handle.container_id.substr(0, 12), grace.count());
        }
      }
    }
    return Remove(handle.container_id);
  }

  std::string LogTail(const ServerHandle& handle, const engine::ServerSpec& /*spec*/,
                      int lines) override {
    if (!CheckContainerId(handle.container_id).ok()) return "";
    auto r = client_.Request(
        "GET",
        fmt::format("/containers/{}/logs?stdout=1&stderr=1&tail={}", handle.container_id, lines),
        "", std::chrono::seconds(10), 1 << 20);
    if (!r.ok()) return fmt::format("(no container log: {})", r.status().message());
    if (r->status != 200) return fmt::format("(no container log: {})", DockerErrorMessage(*r));
    auto text = DemultiplexLogs(r->body);
    return LastLines(text.ok() ? *text : r->body, lines);
  }

  Result<std::vector<FoundServer>> ListServers() override {
    std::string filters =
        json::serialize(json::object{{"label", json::array{"zdap.origin=" + options_.origin}}});
    ZDAP_ASSIGN_OR_RETURN(
        auto r, client_.Request("GET", "/containers/json?all=1&filters=" + PercentEncode(filters),
                                "", kApiTimeout));
    if (r.status != 200) {
      return Unavailable(
          fmt::format("docker: listing containers failed: {}", DockerErrorMessage(r)));
    }
    json::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_array()) return Unavailable("docker: container list is not a JSON array");
    std::vector<FoundServer> out;
    for (const auto& c : v.as_array()) {
      if (!c.is_object()) continue;
      const auto& o = c.as_object();
      FoundServer f;
      if (auto* id = o.if_contains("Id"); id != nullptr && id->is_string()) {
        f.handle.container_id = std::string(id->as_string());
      }
      if (auto* st = o.if_contains("State"); st != nullptr && st->is_string()) {
        f.running = st->as_string() == "running";
      }
      if (auto* labels = o.if_contains("Labels"); labels != nullptr && labels->is_object()) {
        if (auto* cl = labels->as_object().if_contains("zdap.clone");
            cl != nullptr && cl->is_string()) {
          f.clone = std::string(cl->as_string());
        }
      }
      if (CheckContainerId(f.handle.container_id).ok()) out.push_back(std::move(f));
    }
    return out;
  }

  Status Ping() {
    ZDAP_ASSIGN_OR_RETURN(auto r, client_.Request("GET", "/version", "", kApiTimeout));
    if (r.status != 200) {
      return Unavailable(fmt::format(
          "the Docker daemon at {} does not speak API v1.41 (Docker 20.10 or newer): {}",
          options_.socket, DockerErrorMessage(r)));
    }
    return Status::Ok();
  }

 private:
  struct ContainerState {
    bool running = false;
    std::string origin;
    std::vector<std::string> cmd;
  };

  Result<ContainerState> Inspect(const ServerHandle& handle) {
    ZDAP_RETURN_IF_ERROR(CheckContainerId(handle.container_id));
    ZDAP_ASSIGN_OR_RETURN(
        auto r,
        client_.Request("GET", "/containers/" + handle.container_id + "/json", "", kApiTimeout));
    if (r.status == 404) return NotFound("no such container " + handle.container_id);
    if (r.status != 200) {
      return Unavailable(fmt::format("docker: inspecting container {} failed: {}",
                                     handle.container_id, DockerErrorMessage(r)));
    }
    json::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return Unavailable("docker: container inspect is not JSON");
    ContainerState s;
    const auto& o = v.as_object();
    if (auto* st = o.if_contains("State"); st != nullptr && st->is_object()) {
      if (auto* run = st->as_object().if_contains("Running"); run != nullptr && run->is_bool()) {
        s.running = run->as_bool();
      }
    }
    if (auto* cfg = o.if_contains("Config"); cfg != nullptr && cfg->is_object()) {
      if (auto* cmd = cfg->as_object().if_contains("Cmd"); cmd != nullptr && cmd->is_array()) {
        for (const auto& a : cmd->as_array()) {
          if (a.is_string()) s.cmd.emplace_back(a.as_string());
        }
      }
      if (auto* labels = cfg->as_object().if_contains("Labels");
          labels != nullptr && labels->is_object()) {
        if (auto* og = labels->as_object().if_contains("zdap.origin");
            og != nullptr && og->is_string()) {
          s.origin = std::string(og->as_string());
        }
      }
    }
    return s;
  }

  // Force-removes the container (a running one is killed). Gone already = done.
  Status Remove(const std::string& id) {
    ZDAP_ASSIGN_OR_RETURN(
        auto r, client_.Request("DELETE", "/containers/" + id + "?force=true", "", kApiTimeout));
    if (r.status == 204 || r.status == 404) return Status::Ok();
    // 409: removal already in progress (a concurrent stop); it finishes on its own.
    if (r.status == 409) return Status::Ok();
    return Unavailable(
        fmt::format("docker: removing container {} failed: {}", id, DockerErrorMessage(r)));
  }

  DockerRuntimeOptions options_;
  DockerClient client_;
};

}  // namespace

Result<std::unique_ptr<Runtime>> OpenDockerRuntime(const DockerRuntimeOptions& options) {
  auto rt = std::make_unique<DockerRuntime>(options);
  ZDAP_RETURN_IF_ERROR(rt->Ping());
  return std::unique_ptr<Runtime>(std::move(rt));
}

}  // namespace zdap::runtime
