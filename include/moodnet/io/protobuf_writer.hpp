#pragma once
// ProtoWriter: the protocol-buffers wire format, write side only — as much of it as an ONNX file
// (io/onnx_export.hpp) needs. Hand-written on purpose: ONNX's messages use five wire forms, and a
// protobuf library (libprotobuf + protoc + onnx.proto at build time) would be a dependency that does
// no job better here. A dependency belongs where it does a job better (Eigen, stb_image).
//
// The format (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of fields,
// each a key varint (field_number << 3 | wire_type) followed by the value:
//   wire 0 (varint)            int32/int64/uint64/enum/bool: 7 bits per byte, low group first, the
//                              high bit set on every byte but the last; a negative int32/int64 is
//                              its 64-bit two's complement (always 10 bytes)
//   wire 2 (length-delimited)  string, bytes, nested message: a varint byte count, then the bytes
//   wire 5 (32-bit)            float: 4 bytes, little-endian IEEE 754
// A repeated field is the same field written once per element (proto2's unpacked form, which ONNX's
// onnx.proto declares for everything the exporter writes; every parser also reads it). A nested
// message is built in a ProtoWriter of its own and appended with message(): its length is known then.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace moodnet::io {

static_assert(std::endian::native == std::endian::little, "ProtoWriter writes floats and raw tensors as stored");

class ProtoWriter {
 public:
  enum WireType : std::uint32_t { kVarint = 0, kLengthDelimited = 2, kFixed32 = 5 };

  // One field: the key, then the value in its wire form. Returns *this for chaining.
  ProtoWriter& uint64(int field, std::uint64_t v) {
    key(field, kVarint);
    varint(v);
    return *this;
  }
  // int32 and int64 share one encoding: a negative value is sign-extended to 64 bits.
  ProtoWriter& int64(int field, std::int64_t v) { return uint64(field, static_cast<std::uint64_t>(v)); }
  ProtoWriter& float32(int field, float v) {
    key(field, kFixed32);
    char b[4];
    std::memcpy(b, &v, 4);
    bytes_.append(b, 4);
    return *this;
  }
  ProtoWriter& bytes(int field, std::string_view data) {
    key(field, kLengthDelimited);
    varint(data.size());
    bytes_.append(data);
    return *this;
  }
  ProtoWriter& string(int field, std::string_view s) { return bytes(field, s); }
  ProtoWriter& message(int field, const ProtoWriter& sub) { return bytes(field, sub.bytes_); }
  // The fields of another writer of the same message, appended as they are (two encodings one
  // after the other parse as one message: repeated fields keep their order).
  ProtoWriter& append(const ProtoWriter& fields) {
    bytes_.append(fields.bytes_);
    return *this;
  }

  const std::string& data() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }

  // The raw varint, for callers and tests: 300 -> AC 02.
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<char>(v));
  }

 private:
  void key(int field, WireType wire) { varint((static_cast<std::uint64_t>(field) << 3) | wire); }

  std::string bytes_;
};

}  // namespace moodnet::io
