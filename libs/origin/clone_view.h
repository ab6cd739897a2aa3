// CloneView: one clone as the API shows it to one caller (SPEC "Clone object"): the catalog's
// record, how to connect (host, database, user, URI) and, for its owner only, the password.
// Every clone operation of the origin answers with one (create, claim, reset, get, list,
// update); zdapd maps it onto api::Clone in one place.
//
// CloneViews makes them: the connection URI comes from the engine and is remembered in the
// SecretStore (a list of hundreds of clones per request must not format hundreds of URIs);
// the password of a clone is read once, then from memory. Thread-safe; SetOriginUrl is called
// before serving.
#pragma once

#include <optional>
#include <string>

#include "catalog/clone_record.h"
#include "core/time.h"
#include "origin/caller.h"
#include "origin/resource_set.h"
#include "origin/secret_store.h"

namespace zdap::origin {

struct CloneView {
  std::string id;
  std::string resource;
  std::string snapshot;
  std::string owner;  // "" for a pool clone
  std::string state;  // creating | ready | failed | deleting
  std::string host;
  int port = 0;
  std::string database;
  std::string user;
  std::string password;  // "" unless the caller owns the clone
  std::string uri;       // with the password for its owner, without for anyone else
  SystemTime created_at{};
  std::optional<SystemTime> expires_at;
  bool is_protected = false;
  bool pooled = false;
  std::string origin;  // the API's URL as clients reach it
  std::string engine;
  std::string error;  // why the clone is failed; "" otherwise
};

class CloneViews {
 public:
  // `host`: the address clients reach clones at (DaemonConfig::AdvertisedHost).
  CloneViews(const ResourceSet& resources, SecretStore& secrets, std::string host)
      : resources_(resources), secrets_(secrets), host_(std::move(host)) {}

  // The API's URL, once the listener is bound.
  void SetOriginUrl(std::string url) { origin_url_ = std::move(url); }
  const std::string& origin_url() const { return origin_url_; }

  CloneView Of(const catalog::CloneRecord& record, const Caller& caller) const;

 private:
  const ResourceSet& resources_;
  SecretStore& secrets_;
  const std::string host_;
  std::string origin_url_;
};

}  // namespace zdap::origin
