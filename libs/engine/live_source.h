// `source.url` (config/source_url.h): the password of a live source, handed to a dump client
// in a file of the client's own format that exists only while the client runs. It never goes
// into an argv (ps shows those to everyone), an environment, a log or a message.
#pragma once

#include <string>

#include "config/resource.h"
#include "core/result.h"

namespace zdap::engine {

// The password in `source.password_file`, without its trailing line break; "" when none is
// configured. An unreadable file names the file, never its content.
Result<std::string> ReadSourcePassword(const config::ResourceSource& source);

// A 0600 file of secret content that is removed when this goes out of scope.
class TransientSecretFile {
 public:
  static Result<TransientSecretFile> Write(const std::string& path, const std::string& content);
  TransientSecretFile(TransientSecretFile&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TransientSecretFile& operator=(TransientSecretFile&& other) noexcept;
  ~TransientSecretFile();
  const std::string& path() const { return path_; }

 private:
  explicit TransientSecretFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// A libpq password file line (host:port:database:user:password, ':' and '\' escaped).
std::string PgPassLine(const config::SourceUrl& url, const std::string& password);
// The same for any field; "*" as a field matches anything (and is not escaped).
std::string PgPassLine(const std::string& host, const std::string& port,
                       const std::string& database, const std::string& user,
                       const std::string& password);
// A MariaDB option file that gives the client `password` ([client] password="...").
std::string MariadbPasswordOptions(const std::string& password);

}  // namespace zdap::engine
