// Small string helpers with no project dependencies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rh {

// True when s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Byte offset of the first invalid UTF-8 sequence, or npos when valid.
size_t first_invalid_utf8(std::string_view s);

// The code points of s; each byte not part of well-formed UTF-8 becomes
// U+DC80..U+DCFF, as Python's surrogateescape reads it.
std::u32string utf8_code_points(std::string_view s);

// Replaces each invalid UTF-8 byte with U+FFFD; used for console text, which
// programs may write in any encoding and which must never be dropped.
std::string sanitize_utf8(std::string_view s);

std::string to_hex(const unsigned char* data, size_t n);
// Writes 2*n lowercase hex digits to out (no terminator).
void to_hex(const unsigned char* data, size_t n, char* out);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// A word the shell reads back as s, as Python's shlex.quote writes it: s
// itself when it holds only letters, digits and _@%+=:,./-, else in single
// quotes (a ' inside as '"'"').
std::string shell_quote(const std::string& s);
std::string_view trim(std::string_view s);
// s without the line ends (\n, \r) it ends with: a command's output line.
std::string_view chomp(std::string_view s);
bool is_hex(std::string_view s);
// Lowercase hex of exactly 2*n digits into n bytes; false (out unspecified) otherwise.
bool from_hex(std::string_view hex, unsigned char* out, size_t n);

std::optional<int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);

// Human-readable byte count: "1.5 MiB".
std::string format_bytes(uint64_t n);

}  // namespace rh
