// libFuzzer target: the zdapd config file (config/daemon_config.h). Any text gives settings
// or a one-line-per-problem error; settings that apply give a config that validation either
// accepts or refuses with a message, and applying them twice gives the same config.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/daemon_config.h"

namespace {

bool Same(const zdap::config::DaemonConfig& a, const zdap::config::DaemonConfig& b) {
  return a.listen == b.listen && a.data_dir == b.data_dir && a.StorePath() == b.StorePath() &&
         a.clone_port_first == b.clone_port_first && a.clone_port_last == b.clone_port_last &&
         a.runtime_driver == b.runtime_driver && a.log_level == b.log_level;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64 << 10)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  zdap::config::SettingMap settings;
  zdap::Status st = zdap::config::ParseDaemonConfigText("/etc/zdap/zdapd.yaml", text, &settings);
  if (!st.ok()) {
    if (st.message().empty()) std::abort();
    return 0;
  }
  zdap::config::DaemonConfig a, b;
  st = zdap::config::ApplyDaemonSettings(settings, "/etc/zdap/zdapd.yaml", &a);
  if (!st.ok()) {
    if (st.message().empty()) std::abort();
    return 0;
  }
  if (!zdap::config::ApplyDaemonSettings(settings, "/etc/zdap/zdapd.yaml", &b).ok()) std::abort();
  if (!Same(a, b)) std::abort();
  st = zdap::config::ValidateDaemonConfig(a);
  if (st.ok() && a.clone_port_first > a.clone_port_last) std::abort();
  if (!st.ok() && st.message().empty()) std::abort();
  return 0;
}
