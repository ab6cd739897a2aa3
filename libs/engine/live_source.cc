#include "engine/live_source.h"

#include <unistd.h>

#include "core/file_util.h"

namespace zdap::engine {

Result<std::string> ReadSourcePassword(const config::ResourceSource& source) {
  if (source.password_file.empty()) return std::string();
  auto password = ReadSecretLine(source.password_file);
  if (!password.ok()) return password.status().Wrap("source.password_file");
  return password;
}

Result<TransientSecretFile> TransientSecretFile::Write(const std::string& path,
                                                       const std::string& content) {
  ZDAP_RETURN_IF_ERROR(ReplaceFile(path, content, 0600));
  return TransientSecretFile(path);
}

TransientSecretFile& TransientSecretFile::operator=(TransientSecretFile&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TransientSecretFile::~TransientSecretFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::string PgPassLine(const std::string& host, const std::string& port,
                       const std::string& database, const std::string& user,
                       const std::string& password) {
  auto field = [](const std::string& s) {
    if (s == "*") return s;
    std::string out;
    for (char c : s) {
      if (c == ':' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  };
  return field(host) + ":" + field(port) + ":" + field(database) + ":" + field(user) + ":" +
         field(password) + "\n";
}

std::string PgPassLine(const config::SourceUrl& url, const std::string& password) {
  return PgPassLine(url.host, std::to_string(url.port), url.database,
                    url.user.empty() ? "*" : url.user, password);
}

std::string MariadbPasswordOptions(const std::string& password) {
  std::string quoted;
  for (char c : password) {
    if (c == '\\' || c == '"') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return "[client]\npassword=\"" + quoted + "\"\n";
}

}  // namespace zdap::engine
