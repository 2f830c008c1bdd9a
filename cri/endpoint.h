// File: endpoint.h
// Checks on the CRI runtime endpoint: its syntax, and whether the socket it
// names can be trusted (who could have created it). Pure functions of the
// argument and the file system; thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace zun::cri {

// Checks that `endpoint` is "unix://" + an absolute path that fits in a
// sockaddr_un and has no ".." or control characters. InvalidArgument if not.
absl::Status ValidateCriEndpoint(const std::string& endpoint);

// Checks who could have put the socket of a valid unix:// `endpoint` there:
// if the path exists it must be a socket owned by root or by us, and no
// directory on the way may be writable by others unless sticky (and then
// the socket must still be ours or root's). NotFound if the socket does not
// exist (yet); FailedPrecondition for an untrusted path. Reads the file
// system; thread-safe.
absl::Status CheckCriSocket(const std::string& endpoint);

}  // namespace zun::cri
