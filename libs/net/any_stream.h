// AnyStream: a byte stream over plain TCP, TLS over TCP or a unix socket, as one type for
// Beast's HTTP operations. They are templates over the stream: used on each transport's own
// type they were instantiated once per transport, and those instantiations, optimised, took
// GCC minutes per file (the HTTP client and server were the build's two slowest files by far).
// Through AnyStream they are instantiated once; each transport adds only its read_some and
// write_some.
//
// Contract:
// - A read or write moves the first non-empty buffer of its sequence. *_some operations may
//   move fewer bytes than offered, and Beast's loops go on from where they stopped.
// - Handlers run on the stream's executor (for zdapd's connections, their strand), as with the
//   wrapped stream itself.
// - Deadlines are the lowest layer's (beast::basic_stream's per-operation timeouts).
// Include it only where Beast is already needed: it brings Asio and Beast's core headers.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <utility>

namespace zdap::net {

class AnyStream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using IoHandler =
      boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

  explicit AnyStream(executor_type executor) : executor_(std::move(executor)) {}
  virtual ~AnyStream() = default;
  AnyStream(const AnyStream&) = delete;
  AnyStream& operator=(const AnyStream&) = delete;

  executor_type get_executor() const { return executor_; }

  // The lowest layer's deadline for the operations started from now on, and its closing.
  virtual void ExpiresAt(std::chrono::steady_clock::time_point at) = 0;
  virtual void Close() = 0;

  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::mutable_buffer buffer) {
          ReadSome(buffer, IoHandler(std::move(handler)));
        },
        token, First<boost::asio::mutable_buffer>(buffers));
  }

  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::const_buffer buffer) {
          WriteSome(buffer, IoHandler(std::move(handler)));
        },
        token, First<boost::asio::const_buffer>(buffers));
  }

 protected:
  virtual void ReadSome(boost::asio::mutable_buffer buffer, IoHandler handler) = 0;
  virtual void WriteSome(boost::asio::const_buffer buffer, IoHandler handler) = 0;

 private:
  template <typename Buffer, typename Sequence>
  static Buffer First(const Sequence& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b(*it);
      if (b.size() > 0) return b;
    }
    return Buffer();
  }

  executor_type executor_;
};

// AnyStream over a Beast stream it refers to (which outlives it). Handlers are bound to that
// stream's executor: Asio 1.26's any_completion_executor lacks properties Beast's operations
// require of a handler's executor.
template <typename Stream>
class AnyStreamOf final : public AnyStream {
 public:
  explicit AnyStreamOf(Stream& stream) : AnyStream(stream.get_executor()), stream_(stream) {}

  Stream& stream() { return stream_; }

  void ExpiresAt(std::chrono::steady_clock::time_point at) override {
    boost::beast::get_lowest_layer(stream_).expires_at(at);
  }
  void Close() override { boost::beast::get_lowest_layer(stream_).close(); }

 private:
  void ReadSome(boost::asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, boost::asio::bind_executor(get_executor(), std::move(handler)));
  }
  void WriteSome(boost::asio::const_buffer buffer, IoHandler handler) override {
    stream_.async_write_some(buffer,
                             boost::asio::bind_executor(get_executor(), std::move(handler)));
  }

  Stream& stream_;
};

}  // namespace zdap::net
