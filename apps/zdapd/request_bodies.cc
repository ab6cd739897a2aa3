#include "request_bodies.h"

namespace zdap::daemon {

Result<origin::CreateCloneRequest> DecodeCreateClone(std::string_view resource,
                                                     std::string_view body) {
  ZDAP_ASSIGN_OR_RETURN(api::CreateCloneRequest in, api::ParseCreateCloneRequest(body));
  origin::CreateCloneRequest out;
  out.resource = std::string(resource);
  out.snapshot = std::move(in.snapshot);
  out.name = std::move(in.name);
  out.ttl = in.ttl;
  out.is_protected = in.is_protected;
  out.password = std::move(in.password);
  return out;
}

Result<api::ClaimCloneRequest> DecodeClaim(std::string_view body) {
  return api::ParseClaimCloneRequest(body);
}

Result<origin::UpdateCloneRequest> DecodeUpdateClone(std::string_view body) {
  ZDAP_ASSIGN_OR_RETURN(api::UpdateCloneRequest in, api::ParseUpdateCloneRequest(body));
  origin::UpdateCloneRequest out;
  out.ttl = in.ttl;
  out.is_protected = in.is_protected;
  return out;
}

Result<std::string> DecodeResetClone(std::string_view body) {
  ZDAP_ASSIGN_OR_RETURN(api::ResetCloneRequest in, api::ParseResetCloneRequest(body));
  return std::move(in.snapshot);
}

Status DecodeEmptyBody(std::string_view body) {
  return api::ParseEmptyRequest(body);
}

}  // namespace zdap::daemon
