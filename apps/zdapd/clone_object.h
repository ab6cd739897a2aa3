// The API's clone object for a catalog record: the record's fields plus how to connect
// (host, database, user, password, uri), as Origin::AccessFor gives them.
#pragma once

#include "api/clone.h"
#include "catalog/clone_record.h"
#include "origin/origin.h"

namespace zdap::daemon {

api::Clone CloneView(const origin::Origin& origin, const catalog::CloneRecord& record);

}  // namespace zdap::daemon
