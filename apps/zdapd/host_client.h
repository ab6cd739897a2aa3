// Host commands against the zdapd that serves the data dir: `zdapd refresh` and `zdapd
// destroy` call its API on its listen address as the host's administrator (the Bearer token
// the daemon keeps in <data_dir>/admin.token, sent when that file exists) instead of opening
// the store beside it. They are API clients like the CLI (libs/client: the same schema, the
// same job-following loop as `zdap refresh --wait`). With `tls` in the config they speak HTTPS and
// trust exactly the certificate in tls.cert (pinned: no CA, no host name check), so a daemon on
// 0.0.0.0 with a certificate for its public name is reached on 127.0.0.1.
#pragma once

#include <string>

#include "config/daemon_config.h"

namespace zdap::daemon {

// Starts a refresh job and follows it: a line per phase (and every 2 s) on stderr, the new
// snapshot's id on stdout. Returns the process exit code (1 with the job's error).
int RefreshThroughDaemon(const config::DaemonConfig& config, const std::string& resource);
// Destroys a clone through the daemon. Returns the process exit code.
int DestroyThroughDaemon(const config::DaemonConfig& config, const std::string& clone);

}  // namespace zdap::daemon
