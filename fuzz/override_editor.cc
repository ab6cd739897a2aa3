// libFuzzer target: the compose override editor (compose/override_editor.h). On any override
// text, attaching a service then detaching it gives back the exact original bytes, and the
// attached text lists the service among its zdap blocks. Input: the first byte picks the
// service name and whether the file exists; the rest is the file's text.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "compose/override_editor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (64 << 10)) return 0;
  static const char* const kNames[] = {"db", "app", "my-db", "x_1"};
  const bool exists = (data[0] & 0x80) == 0;
  const std::string name = kNames[data[0] & 3];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!exists) text.clear();

  zdap::compose::ProxyService service;
  service.name = name;
  service.image = "zdap/proxyd:0.1.0";
  service.listen_port = 5432;
  service.targets = {"host.docker.internal:6001"};
  service.note = "clone chinook-7f3a of chinook@20261122T030405Z on http://192.0.2.5:43210";
  if (data[0] & 0x40) {
    service.build_context = ".zdap/build/" + name;
    service.build_target = "dev";
  }
  if (data[0] & 0x20) {  // what attach writes to neutralise a database service's keys
    service.ports = {"127.0.0.1:5433:5432"};
    service.blank_environment = {"POSTGRES_PASSWORD"};
    service.blank_labels = {"team"};
    service.tmpfs_targets = {"/var/lib/postgresql/data"};
  }

  auto attached = zdap::compose::AttachService(text, exists, service, "3.8");
  if (!attached.ok()) {
    if (attached.status().message().empty()) std::abort();
    return 0;
  }
  auto names = zdap::compose::ZdapServices(*attached);
  if (std::find(names.begin(), names.end(), name) == names.end()) std::abort();
  auto detached = zdap::compose::DetachService(*attached, name);
  if (!detached.ok()) std::abort();
  if (detached->delete_file != !exists && !(exists && text.empty() && detached->delete_file)) {
    std::abort();
  }
  if (!detached->delete_file && detached->text != text) std::abort();
  // Attaching the same service again to the attached text is refused, and changes nothing.
  if (zdap::compose::AttachService(*attached, true, service, "3.8").ok()) std::abort();
  return 0;
}
