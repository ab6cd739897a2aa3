// Quote, Printable: user-supplied text inside a one-line error message, made harmless.
#pragma once

#include <string>
#include <string_view>

namespace zdap {

// 'text' for messages: at most 64 characters, non-printable bytes, quotes and backslashes as
// \xNN, "..." when cut. Hostile input (newlines, escape sequences, megabytes) can neither break
// the one-line error contract nor flood a log.
std::string Quote(std::string_view text);

// `text` with every byte outside printable ASCII as '?', cut at `max` bytes: for text a message
// shows without quotes (a file name, a parser's own message that may quote raw input).
std::string Printable(std::string_view text, size_t max = 200);

}  // namespace zdap
