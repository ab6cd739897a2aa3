// The field names of API v1's JSON objects (SPEC "HTTP API v1"), in one place: the writers in
// zdapd and the readers in the CLI and the proxy use these constants, never string literals.
#pragma once

namespace zdap::api::field {

// Clone object.
inline constexpr const char* kId = "id";
inline constexpr const char* kResource = "resource";
inline constexpr const char* kSnapshot = "snapshot";
inline constexpr const char* kOwner = "owner";
inline constexpr const char* kState = "state";
inline constexpr const char* kHost = "host";
inline constexpr const char* kPort = "port";
inline constexpr const char* kDatabase = "database";
inline constexpr const char* kUser = "user";
inline constexpr const char* kToken = "token";
inline constexpr const char* kRole = "role";
inline constexpr const char* kReplace = "replace";
inline constexpr const char* kPassword = "password";
inline constexpr const char* kUri = "uri";
inline constexpr const char* kCreatedAt = "created_at";
inline constexpr const char* kExpiresAt = "expires_at";
inline constexpr const char* kProtected = "protected";
inline constexpr const char* kPooled = "pooled";
inline constexpr const char* kOrigin = "origin";
inline constexpr const char* kEngine = "engine";
// kError (below) too: why a failed clone failed, else null.
// Only in a claim's answer: true = a ready pool clone, false = made for the claim.
inline constexpr const char* kFromPool = "from_pool";

// Resource and snapshot objects.
inline constexpr const char* kName = "name";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kTtl = "ttl";
inline constexpr const char* kSnapshots = "snapshots";
inline constexpr const char* kClones = "clones";
inline constexpr const char* kResources = "resources";

// Job object.
inline constexpr const char* kJob = "job";
inline constexpr const char* kKind = "kind";
inline constexpr const char* kPhase = "phase";
inline constexpr const char* kBytesDone = "bytes_done";
inline constexpr const char* kBytesTotal = "bytes_total";
inline constexpr const char* kStartedAt = "started_at";
inline constexpr const char* kFinishedAt = "finished_at";
inline constexpr const char* kElapsedMs = "elapsed_ms";
inline constexpr const char* kError = "error";
inline constexpr const char* kLogTail = "log_tail";

// Status object.
inline constexpr const char* kStatus = "status";
inline constexpr const char* kStorage = "storage";
inline constexpr const char* kRuntime = "runtime";
inline constexpr const char* kDriver = "driver";
inline constexpr const char* kPath = "path";
inline constexpr const char* kTotalBytes = "total_bytes";
inline constexpr const char* kFreeBytes = "free_bytes";
inline constexpr const char* kUsedBytes = "used_bytes";
inline constexpr const char* kAvailableBytes = "available_bytes";
inline constexpr const char* kMemory = "memory";
inline constexpr const char* kLoad = "load";
inline constexpr const char* kCounts = "counts";
inline constexpr const char* kPool = "pool";
inline constexpr const char* kMin = "min";
inline constexpr const char* kMax = "max";
inline constexpr const char* kReady = "ready";
inline constexpr const char* kDataAsOf = "data_as_of";
inline constexpr const char* kClonePorts = "clone_ports";
inline constexpr const char* kFirst = "first";
inline constexpr const char* kLast = "last";
inline constexpr const char* kStandby = "standby";
inline constexpr const char* kFollower = "follower";
inline constexpr const char* kUpstream = "upstream";
inline constexpr const char* kUpstreamNewest = "upstream_newest";
inline constexpr const char* kCheckedAt = "checked_at";
inline constexpr const char* kNewestLocal = "newest_local";
inline constexpr const char* kBehind = "behind";
inline constexpr const char* kLastPullBytes = "last_pull_bytes";
inline constexpr const char* kLastPullFormat = "last_pull_format";
inline constexpr const char* kLastPullBase = "last_pull_base";
inline constexpr const char* kPulledBytes = "pulled_bytes";
inline constexpr const char* kDetail = "detail";
inline constexpr const char* kLagSeconds = "lag_seconds";
inline constexpr const char* kLagBytes = "lag_bytes";
inline constexpr const char* kLastReplayedAt = "last_replayed_at";
inline constexpr const char* kDisconnectedSince = "disconnected_since";
inline constexpr const char* kNewestSnapshotAgeSeconds = "newest_snapshot_age_seconds";
inline constexpr const char* kInUse = "in_use";
inline constexpr const char* kRefresh = "refresh";
inline constexpr const char* kCron = "cron";
inline constexpr const char* kNextAt = "next_at";

// Error object: {"error": {"code": ..., "message": ...}}.
inline constexpr const char* kCode = "code";
inline constexpr const char* kMessage = "message";

}  // namespace zdap::api::field
